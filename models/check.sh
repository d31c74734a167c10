#!/usr/bin/env bash
# CI check for the models: retrain from scratch and require byte-identical output to models/dist.
#   bash models/check.sh
# 1. setup.sh (venv with the pinned requirements), 2. the pipeline's unit tests (models/tests), 3. a quick
# `--config ci` smoke run, 4. `--config full` into a temp dir, compared byte for byte with models/dist
# (~1.5 min on 2 cores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$("$here/setup.sh")"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kubepulse-models.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here"

echo "== models: unit tests (models/tests)"
"$py" -m unittest discover -s tests

echo "== models: smoke run (--config ci)"
"$py" -m kubepulse_models.train --config ci --out "$tmp/ci"
for f in forecaster.onnx classifier.onnx metadata.json; do
  [[ -s "$tmp/ci/$f" ]] || { echo "models/check.sh: ci run did not write $f" >&2; exit 1; }
done

echo "== models: full training (--config full), compared with models/dist"
start=$SECONDS
"$py" -m kubepulse_models.train --config full --out "$tmp/full"
echo "== models: full training took $((SECONDS - start)) s"

status=0
for f in forecaster.onnx classifier.onnx metadata.json; do
  if [[ ! -f "$here/dist/$f" ]]; then
    echo "MISMATCH: models/dist/$f is missing" >&2
    status=1
  elif cmp -s "$tmp/full/$f" "$here/dist/$f"; then
    echo "ok: models/dist/$f is reproduced byte for byte"
  else
    echo "MISMATCH: models/dist/$f differs from a fresh training run" >&2
    echo "  committed: $(sha256sum <"$here/dist/$f" | cut -d' ' -f1)" >&2
    echo "  retrained: $(sha256sum <"$tmp/full/$f" | cut -d' ' -f1)" >&2
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "--- metadata.json diff (committed vs retrained), first 60 lines:" >&2
  diff "$here/dist/metadata.json" "$tmp/full/metadata.json" | head -60 >&2 || true
  echo "models/check.sh: FAILED. If the change is intended, regenerate and commit models/dist:" >&2
  echo "  cd models && \"\$(./setup.sh)\" -m kubepulse_models.train --config full --out dist" >&2
  exit 1
fi
echo "models/check.sh: OK"
