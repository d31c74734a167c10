#!/usr/bin/env bash
# Regenerate a hashed requirements lock from its exact pins: <dir>/requirements.in -> <dir>/requirements.txt,
# with the sha256 of every published file of every pinned version (pip-tools' pip-compile --generate-hashes,
# run from a throwaway venv in the cache). Run it after editing a requirements.in and commit both files.
#   local/harness/lib/lock-requirements.sh models/requirements.in
set -euo pipefail

[[ $# -eq 1 && "$1" == *.in ]] || { echo "usage: $0 <path/to/requirements.in>" >&2; exit 2; }
in="$1"
out="${in%.in}.txt"
cache="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
tools="$cache/pip-tools-venv"

if [[ ! -x "$tools/bin/pip-compile" ]]; then
  echo "lock-requirements: installing pip-tools into $tools" >&2
  "${KUBEPULSE_PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "$tools" >&2
  "$tools/bin/pip" install --disable-pip-version-check -q pip-tools >&2
fi

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
"$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --no-header --strip-extras --no-emit-find-links \
  -o "$body" "$in"
{
  printf '# Generated from %s by pip-compile --generate-hashes (pip-tools); edit the .in file and regenerate:\n' "$(basename "$in")"
  printf '#   local/harness/lib/lock-requirements.sh %s\n' "$in"
  printf '# Every file of every pinned version carries its sha256, so pip installs with --require-hashes on any platform.\n'
  cat "$body"
} >"$out"
echo "lock-requirements: wrote $out" >&2
