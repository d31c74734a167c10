#!/usr/bin/env bash
# Create or refresh the Half-Space Trees venv (${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/faults-venv) and print its
# python path:
#   PY="$(test/bench/faults/hst/setup.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../../../local/harness/lib/venv.sh" faults-venv "$here/requirements.txt"
