#!/usr/bin/env bash
# Builds infra/images/ocibuild (the OCI image layout writer the image build uses; go-containerregistry from the
# Go module proxy) into ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/tools/ocibuild-<hash of its sources>/ocibuild and
# prints the binary's path on stdout (everything else goes to stderr). Idempotent: a second run finds the binary
# for the same sources and returns at once. The module graph is the committed go.mod/go.sum, used with
# -mod=readonly: a module whose content differs from its committed hash fails the build, nothing is resolved
# afresh. To move go-containerregistry: edit go.mod, `go mod tidy` there, review and commit both files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/infra/images/ocibuild"
CACHE="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"

say() { echo "ocibuild: $*" >&2; }
die() {
  echo "ocibuild: $*" >&2
  exit 1
}

hash_stdin() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -c1-16; }
key="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | hash_stdin)"
dir="$CACHE/tools/ocibuild-$key"
if [ -x "$dir/ocibuild" ]; then
  echo "$dir/ocibuild"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go is missing; install Go >= 1.25 (go-containerregistry 0.22 needs it)"
mkdir -p "$CACHE/tools"
work="$(mktemp -d "$CACHE/tools/.ocibuild-XXXXXX")"
trap 'rm -rf "$work"' EXIT
say "building from $SRC (go-containerregistry per go.mod) into $dir"
(cd "$SRC" && GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0 \
  go build -trimpath -ldflags '-s -w' -o "$work/ocibuild" .) || die "go build failed"
# A rename within one file system: a concurrent run sees the old state or the whole binary, never half of it.
mkdir -p "$dir"
mv -f "$work/ocibuild" "$dir/ocibuild"
echo "$dir/ocibuild"
