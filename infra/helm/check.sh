#!/usr/bin/env bash
# `helm lint --strict` and `helm template` (default values) of the chart, with helm built from the Go module
# proxy by local/tools/helm/build.sh (cached; a no-op once built). local/test.sh runs it; the equivalence with
# infra/kubernetes, the hostile values and the install into the local API server are tests
# (infra/helm/chart.test.ts, test/integration/helm-install.test.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash local/tools/helm/build.sh
HELM="$(bash local/tools/helm/build.sh --print-bin)"
# helm's own config, cache and data beside the binary: nothing read from or written to ~/.config/helm.
export HELM_CONFIG_HOME="$HELM-home/config" HELM_CACHE_HOME="$HELM-home/cache" HELM_DATA_HOME="$HELM-home/data"

"$HELM" lint --strict infra/helm/kubepulse
objects="$("$HELM" template kubepulse infra/helm/kubepulse | grep -c '^kind: ')"
echo "helm template: $objects objects rendered with default values"
