#!/usr/bin/env bash
# Installs the pinned Node.js (node.env) into ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/toolchain/node-v<version>-<os>-<arch>
# and prints its bin directory on stdout (everything else goes to stderr). Idempotent: a second run checks the
# stamp and the binary's version and returns in milliseconds.
#   bash local/toolchain/node.sh                  install if needed, print the bin dir
#   bash local/toolchain/node.sh --print-bin-dir  print the bin dir only (installs nothing)
# The tarball comes from the npm registry with npm's own client (`npm pack node-linux-<arch>@<version>`, so the
# user's registry settings apply), is checked against the integrity pinned in node.env before anything is
# unpacked, and is never run at install time. Needs a bootstrap node + npm (any version) the first time only.
# Platforms the registry serves no current build for (macOS, Windows) use the Node on PATH if it is >= 22.19 (what
# @kubernetes/client-node 2's undici needs), and say so; KUBEPULSE_NODE=system does the same anywhere.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=node.env
source "$HERE/node.env"
MIN_SYSTEM_NODE=22.19

say() { echo "node toolchain: $*" >&2; }
die() {
  echo "node toolchain: $*" >&2
  exit 1
}

CACHE="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  *) platform="" ;;
esac

use_system_node() {
  local why="$1" node
  node="$(command -v node || true)"
  [ -n "$node" ] || die "$why, and no node on PATH; install Node.js >= $MIN_SYSTEM_NODE (24 preferred)"
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node" -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    const [wantMajor, wantMinor] = process.argv[1].split(".").map(Number);
    process.exit(major > wantMajor || (major === wantMajor && minor >= wantMinor) ? 0 : 1);' "$MIN_SYSTEM_NODE" ||
    die "$why, and the node on PATH is $("$node" --version); install Node.js >= $MIN_SYSTEM_NODE (24 preferred)"
  say "$why; using $("$node" --version) from $node (pinned: v$NODE_VERSION)"
  dirname "$node"
}

if [ "${KUBEPULSE_NODE:-}" = system ]; then
  use_system_node "KUBEPULSE_NODE=system"
  exit 0
fi
if [ -z "$platform" ]; then
  use_system_node "the npm registry serves no Node $NODE_VERSION build for $(uname -s) $(uname -m)"
  exit 0
fi

integrity_var="NODE_INTEGRITY_${platform//-/_}"
want_integrity="${!integrity_var:-}"
[ -n "$want_integrity" ] || die "node.env pins no integrity for $platform ($integrity_var)"
package="node-$platform"
dir="$CACHE/toolchain/node-v$NODE_VERSION-$platform"
stamp="$dir/.kubepulse-integrity"

if [ "${1:-}" = "--print-bin-dir" ]; then
  echo "$dir/bin"
  exit 0
fi

is_installed() {
  [ -x "$dir/bin/node" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$want_integrity" ] &&
    [ "$("$dir/bin/node" --version 2>/dev/null || true)" = "v$NODE_VERSION" ]
}

if is_installed; then
  echo "$dir/bin"
  exit 0
fi

mkdir -p "$CACHE/toolchain"
# Two first runs at once (set-up and a test, say) would race on the same directory: the second one waits.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/toolchain/node.lock"
  flock 9
  if is_installed; then
    echo "$dir/bin"
    exit 0
  fi
fi

command -v npm >/dev/null 2>&1 ||
  die "npm (with any node) is needed once to fetch $package@$NODE_VERSION from the npm registry"
work="$(mktemp -d "$CACHE/toolchain/.node-v$NODE_VERSION-XXXXXX")"
trap 'rm -rf "$work"' EXIT
say "fetching $package@$NODE_VERSION from the npm registry"
# In the work directory: no project .npmrc or package.json is involved, and the tarball lands there.
(cd "$work" && npm pack "$package@$NODE_VERSION" --ignore-scripts --silent >/dev/null) ||
  die "npm pack $package@$NODE_VERSION failed"
tarball="$work/$package-$NODE_VERSION.tgz"
[ -f "$tarball" ] || die "npm pack left no $tarball"
# shellcheck disable=SC2016 # JavaScript, not shell
got_integrity="$(node -e '
  const { createHash } = require("node:crypto");
  const bytes = require("node:fs").readFileSync(process.argv[1]);
  process.stdout.write(`sha512-${createHash("sha512").update(bytes).digest("base64")}`);' "$tarball")"
[ "$got_integrity" = "$want_integrity" ] ||
  die "$package-$NODE_VERSION.tgz has integrity $got_integrity, node.env pins $want_integrity; not installed"
tar -xzf "$tarball" -C "$work"
[ "$("$work/package/bin/node" --version)" = "v$NODE_VERSION" ] ||
  die "the unpacked binary does not report v$NODE_VERSION"
echo "$want_integrity" >"$work/package/.kubepulse-integrity"
rm -rf "$dir"
mv "$work/package" "$dir"
say "installed Node v$NODE_VERSION ($package, $want_integrity) into $dir"
echo "$dir/bin"
