#!/usr/bin/env bash
# README's first command: sets everything up (idempotently) and runs the local end-to-end demo of the scoring
# path on embedded defaults — no Docker, no AWS, no keys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash local/setup.sh
exec node --import tsx local/demo/inference-demo.ts
