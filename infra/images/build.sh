#!/usr/bin/env bash
# Builds the shipper and executor images as OCI image layouts, without a container engine (build-image.ts: the
# esbuild bundle, Node from the npm registry, glibc/libstdc++/libgcc from pinned Debian packages, assembled by
# ocibuild), each with its SPDX SBOM beside it:
#   infra/images/build.sh [--pin | --check-pins] [out dir, default: ~/.cache/kubepulse/images/dist]
#     --pin         write the built digests into infra/kubernetes/<component>/deployment.yaml (at a release)
#     --check-pins  fail unless the manifests pin exactly what this tree builds (the release check)
# Push a layout with any OCI tool, e.g. `crane push <out dir>/shipper ghcr.io/kubepulse/shipper:<version>` or
# `skopeo copy oci:<out dir>/shipper docker://ghcr.io/kubepulse/shipper:<version>`: the digest stays the same.
# With a container engine, infra/images/Dockerfile builds an equivalent image (not the same digest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
flags=()
out="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/images/dist"
for arg in "$@"; do
  case "$arg" in
    --pin | --check-pins) flags+=("$arg") ;;
    --*) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    *) out="$arg" ;;
  esac
done
# shellcheck source=../../local/toolchain/use-node.sh
source "$root/local/toolchain/use-node.sh"
cd "$root"
exec node --import tsx infra/images/build-image.ts "${flags[@]}" "$out"
