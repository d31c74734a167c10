#!/usr/bin/env bash
# Runs a command on the pinned Node (node.env), installing it first if needed: package.json's test, bench and
# demo scripts go through here, so `npm run bench:e2e` measures Node 24 whichever node started npm.
#   bash local/toolchain/exec.sh node --import tsx test/bench/e2e.ts
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=use-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/use-node.sh"
exec "$@"
