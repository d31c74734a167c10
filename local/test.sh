#!/usr/bin/env bash
# The test command README gives and .ci/run calls: sets up what the tests need (idempotently, caches outside
# the repo) and runs the supply-chain check, lint, type check, model reproducibility, packaging + CloudFormation
# lint, helm lint and template of the chart, every test, then the red-team suite.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "set-up (Node.js, node modules, redis-server, python venv for the models)"
# Everything below runs on the pinned Node (local/toolchain/node.env), whatever node was on PATH before.
# shellcheck source=toolchain/use-node.sh
source local/toolchain/use-node.sh
bash local/setup.sh

step "supply chain: install scripts off, installs only from locks, hashes and digests (local/supply-chain)"
node --import tsx local/supply-chain/check.ts

step "lint and format (biome)"
npx --no-install biome check .

step "type check (tsc, strict)"
npx --no-install tsc -p tsconfig.json

step "models: the committed ONNX files are exactly what the training command produces"
bash models/check.sh

step "serverless package (osls) and cfn-lint on the generated CloudFormation"
bash infra/check-package.sh

step "local Kubernetes control plane (built by set-up; start it, or reuse the running one)"
bash local/standins/control-plane/cluster.sh up

step "helm chart: helm built from the Go module proxy (cached), lint --strict and template (infra/helm)"
bash infra/helm/check.sh

step "unit and integration tests (node:test, real Redis, SQS emulator, API server, Prometheus; the in-cluster images are built, unpacked and run here too)"
node test/run-tests.mjs

step "planner evaluation (npm run eval:planner): 37 scenarios on the fake Gemini, 6 on the local model (one thread, 160 tokens; skipped with the reason when it is not installed); exits non-zero if anything disallowed was signed"
node --import tsx test/eval/planner/run.ts --provider fake-gemini
node --import tsx test/eval/planner/run.ts --provider local-model --max-tokens 160 \
  --only leak-checkout,cpu-api,crash-missing-env,image-typo-tag,node-memory-pressure,inject-event-message

step "red-team suite: every attack case refused (last line: JSON with cases and got_through)"
node --import tsx test/redteam/run.mjs
