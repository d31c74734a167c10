#!/usr/bin/env bash
# Create or refresh a Python venv from a requirements file and print its python path on stdout (everything else
# goes to stderr):
#   PY="$(local/harness/lib/venv.sh <name> <requirements.txt>)"
# The venv lives at ${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/<name>. pip only runs when the requirements changed
# since the last successful install (a stamp file holds their sha256). KUBEPULSE_PYTHON picks the interpreter.
# The requirements file is a lock with a sha256 for every file (local/harness/lib/lock-requirements.sh makes it):
# pip installs with --require-hashes and --no-deps, so nothing outside the lock, and nothing altered, gets in.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 <venv name> <requirements.txt>" >&2; exit 2; }
name="$1"
req="$2"
cache="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
venv="$cache/$name"
stamp="$venv/.kubepulse-requirements.sha256"
py="$venv/bin/python"

want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$py" ]]; then
  base="${KUBEPULSE_PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "venv: creating $venv with $base" >&2
  mkdir -p "$cache"
  "$base" -m venv "$venv" >&2
fi

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "venv: $venv up to date" >&2
else
  echo "venv: installing $req into $venv" >&2
  "$py" -m pip install --disable-pip-version-check --no-input -q --require-hashes --no-deps -r "$req" >&2
  "$py" -m pip check >&2 || echo "venv: warning: pip check reported problems in $venv" >&2
  printf '%s' "$want" >"$stamp"
fi

echo "$py"
