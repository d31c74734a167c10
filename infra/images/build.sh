#!/usr/bin/env bash
# Builds (and with --push, pushes) the shipper and executor images, tagged with package.json's version, for the
# registry in KUBEPULSE_IMAGE_REGISTRY (default ghcr.io/kubepulse, as the manifests expect). Uses docker, or podman
# when docker is absent. Not part of the tests (no container engine where they run); the bundle each image runs is
# what the local stack runs and the tests exercise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
registry="${KUBEPULSE_IMAGE_REGISTRY:-ghcr.io/kubepulse}"
version="$(node -p "require('$root/package.json').version")"
engine="$(command -v docker || command -v podman || true)"
[[ -n "$engine" ]] || { echo "build.sh: needs docker or podman" >&2; exit 1; }
for component in shipper executor; do
  image="$registry/$component:$version"
  echo "build.sh: $image" >&2
  "$engine" build -f "$root/infra/images/Dockerfile" --build-arg "COMPONENT=$component" -t "$image" "$root"
  if [[ "${1:-}" == "--push" ]]; then "$engine" push "$image"; fi
done
