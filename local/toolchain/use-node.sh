# shellcheck shell=bash
# Sourced by local/setup.sh, local/test.sh and local/demo.sh: installs the pinned Node.js if needed (node.sh) and
# puts it first on PATH, so `node`, `npm`, `npx`, the test runner's children and the Lambda sandboxes run on it.
KUBEPULSE_NODE_BIN="$(bash "$(dirname "${BASH_SOURCE[0]}")/node.sh")" || return 1
export PATH="$KUBEPULSE_NODE_BIN:$PATH"
export KUBEPULSE_NODE_BIN
