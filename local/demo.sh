#!/usr/bin/env bash
# README's first command: sets everything up (idempotently; the first run builds the local control plane from Go
# modules, which takes minutes and shows its progress) and runs the end-to-end demo on embedded defaults — no
# Docker, no AWS, no keys. GEMINI_API_KEY set → the real Gemini plans instead of the fake.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=toolchain/use-node.sh
source local/toolchain/use-node.sh
bash local/setup.sh
exec node --import tsx local/scenarios/demo/e2e-demo.ts
