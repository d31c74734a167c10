#!/usr/bin/env bash
# Packages the service offline (npm run package), lints the CloudFormation template with cfn-lint, and checks
# that each function zip holds what it needs at run time. Exits non-zero, with the reason, on any failure.
#
#   bash infra/check-package.sh            (npm run check:package)
#
# cfn-lint comes from PyPI into ${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/cfn-lint-venv, once, from the hashed
# lock infra/cfn-lint/requirements.txt (local/harness/lib/venv.sh: re-runs skip the install until the lock
# changes). Needs python3 (with venv) and network to PyPI the first time only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.serverless"
TEMPLATE="$OUT/cloudformation-template-update-stack.json"
# Lambda's limit for a function's unzipped code (all layers included).
MAX_UNZIPPED_BYTES=$((250 * 1024 * 1024))

fail() {
  echo "check-package: FAILED: $*" >&2
  exit 1
}
step() { echo "==> $*"; }

cd "$ROOT"
command -v python3 >/dev/null || fail "python3 is required (for cfn-lint and the zip checks)"

# ---- 1. cfn-lint, installed once from its hashed lock ---------------------------------------------------
step "cfn-lint from infra/cfn-lint/requirements.txt"
CFN_LINT_PY="$(bash "$ROOT/local/harness/lib/venv.sh" cfn-lint-venv "$ROOT/infra/cfn-lint/requirements.txt")" ||
  fail "could not install cfn-lint from infra/cfn-lint/requirements.txt (python3 with venv, and PyPI the first time)"
CFN_LINT="$(dirname "$CFN_LINT_PY")/cfn-lint"

# ---- 2. package, offline -------------------------------------------------------------------------------
step "npm run package"
# .esbuild: serverless-esbuild's work folder, left behind by a failed build
rm -rf "$OUT" "$ROOT/.esbuild"
npm run --silent package || fail "npm run package (osls package --stage ci) failed; see its output above"
[[ -f "$TEMPLATE" ]] || fail "osls produced no $TEMPLATE"

# ---- 3. cfn-lint -----------------------------------------------------------------------------------------
REGION="$(node -e 'console.log(require(process.argv[1]).service.provider.region)' "$OUT/serverless-state.json")"
step "cfn-lint ($("$CFN_LINT" --version), region $REGION) on ${TEMPLATE#"$ROOT"/}"
# W3005 (DependsOn redundant with a GetAtt) is ignored: osls itself adds `DependsOn: <role>` to every function
# that names its role by logical id, next to the `Fn::GetAtt <role>.Arn` it generates; harmless.
if ! "$CFN_LINT" --regions "$REGION" --ignore-checks W3005 -- "$TEMPLATE"; then
  fail "cfn-lint reported problems in ${TEMPLATE#"$ROOT"/} (listed above)"
fi
echo "cfn-lint: no findings"

# ---- 3b. no secret in the template ------------------------------------------------------------------------
step "no secret value in ${TEMPLATE#"$ROOT"/} (infra/template-secrets.ts)"
node --import tsx "$ROOT/infra/template-secrets.ts" "$TEMPLATE" ||
  fail "the template holds a secret's value (listed above); give the function a <NAME>_SECRET reference instead"

# ---- 4. zip contents ---------------------------------------------------------------------------------------
# What each function's zip must hold (paths inside the zip). Keep in step with serverless.yml
# (handler, custom.bundleAssets) and the env vars ORT_WASM_DIR / MODEL_DIR.
declare -A REQUIRED=(
  [inference]="functions/inference/handler.mjs
functions/inference/handler.mjs.map
functions/inference/ort-wasm-simd-threaded.wasm
functions/inference/ort-wasm-simd-threaded.mjs
models/forecaster.onnx
models/classifier.onnx
models/metadata.json"
  [notifier]="functions/notifier/handler.mjs
functions/notifier/handler.mjs.map"
  [planner]="functions/planner/handler.mjs
functions/planner/handler.mjs.map"
  [approver]="functions/approver/handler.mjs
functions/approver/handler.mjs.map"
)

for fn in "${!REQUIRED[@]}"; do
  zip="$OUT/$fn.zip"
  [[ -f "$zip" ]] || fail "no zip for function $fn ($zip)"
  step "contents of ${zip#"$ROOT"/}"
  # python's zipfile: a listing that does not depend on unzip being installed
  python3 - "$zip" "$MAX_UNZIPPED_BYTES" ${REQUIRED[$fn]} <<'PY' || fail "$fn.zip is missing files or too big (see above)"
import os, sys, zipfile
path, limit, required = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with zipfile.ZipFile(path) as z:
    infos = [i for i in z.infolist() if not i.is_dir()]
    bad = z.testzip()
for i in infos:
    print(f"  {i.file_size:>12,}  {i.filename}")
names = {i.filename for i in infos}
unzipped = sum(i.file_size for i in infos)
print(f"  zip size {os.path.getsize(path):,} bytes ({os.path.getsize(path) / 2**20:.1f} MiB), "
      f"unzipped {unzipped:,} bytes ({unzipped / 2**20:.1f} MiB), {len(infos)} files")
ok = True
if bad:
    print(f"  corrupt member: {bad}"); ok = False
for r in required:
    if r not in names:
        print(f"  MISSING: {r}"); ok = False
empty = [i.filename for i in infos if i.filename in required and i.file_size == 0]
for e in empty:
    print(f"  EMPTY: {e}"); ok = False
if unzipped > limit:
    print(f"  unzipped size exceeds Lambda's {limit:,} bytes"); ok = False
sys.exit(0 if ok else 1)
PY
done

echo "check-package: OK"
