#!/usr/bin/env bash
# Create or refresh the training venv (${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/venv) and print its python path:
#   PY="$(models/setup.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../local/harness/lib/venv.sh" venv "$here/requirements.txt"
