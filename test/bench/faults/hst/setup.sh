#!/usr/bin/env bash
# Create or refresh the Half-Space Trees venv and print its python path on stdout (everything else to stderr).
#   PY="$(test/bench/faults/hst/setup.sh)"
# The venv lives at ${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/faults-venv. pip only runs when
# requirements.txt changed since the last successful install (a stamp file holds the requirements' sha256).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
cache="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
venv="$cache/faults-venv"
stamp="$venv/.kubepulse-requirements.sha256"
py="$venv/bin/python"

want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$py" ]]; then
  base="${KUBEPULSE_PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "setup.sh: creating venv at $venv with $base" >&2
  mkdir -p "$cache"
  "$base" -m venv "$venv" >&2
fi

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup.sh: venv up to date ($venv)" >&2
else
  echo "setup.sh: installing $req into $venv" >&2
  "$py" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2
  "$py" -m pip check >&2 || echo "setup.sh: warning: pip check reported problems" >&2
  printf '%s' "$want" >"$stamp"
fi

echo "$py"
