#!/usr/bin/env bash
# Builds helm from the Go module proxy (no release binary downloaded) into
#   ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/tools/helm-<version>/helm
# Idempotent: a stamp (version + recipe + hash of the committed go.mod/go.sum) makes a second run a no-op.
# The module graph is locked in the repository: go.mod and go.sum beside this script are copied into the work
# directory and the build runs with -mod=readonly, so nothing is resolved afresh and a module whose content
# differs from its committed hash fails the build. After changing HELM_VERSION, run `build.sh --relock`: it
# resolves from go.mod.tmpl (`go mod tidy`) and writes the new go.mod/go.sum here for review and commit.
# The first build takes a few minutes on 2 cores (run at nice 10: the machine is shared); then < 1 s.
# Usage: build.sh [--print-bin | --relock]
#   KUBEPULSE_HELM_VERSION  override the pinned version (then --relock)
#   KUBEPULSE_BUILD_JOBS    parallel compile jobs (default: number of CPUs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HELM_VERSION="${KUBEPULSE_HELM_VERSION:-v4.3.2}"
TOOL_DIR="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/tools/helm-$HELM_VERSION"
BIN="$TOOL_DIR/helm"
STAMP="$TOOL_DIR/built.stamp"

say() { echo "helm build: $*" >&2; }
die() { echo "helm build: $*" >&2; exit 1; }

if [ "${1:-}" = "--print-bin" ]; then
  echo "$BIN"
  exit 0
fi
RELOCK=0
[ "${1:-}" = "--relock" ] && RELOCK=1

hash_stdin() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d' ' -f1; }

# Bump RECIPE when the build flags below change; a changed go.mod/go.sum changes the hash. Either rebuilds.
RECIPE=1
inputs_hash="$({ cat "$HERE/go.mod" "$HERE/go.sum" 2>/dev/null || true; } | hash_stdin)"
wanted_stamp="helm $HELM_VERSION recipe$RECIPE locked $inputs_hash"
is_built() { [ "$(cat "$STAMP" 2>/dev/null || true)" = "$wanted_stamp" ] && [ -x "$BIN" ]; }

if [ "$RELOCK" = 0 ] && is_built; then
  say "up to date (helm $HELM_VERSION, $BIN)"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go is missing; install Go >= 1.26 (helm $HELM_VERSION needs it)"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "$go_minor" -ge 26 ] || die "Go >= 1.26 required, found $(go env GOVERSION)"

mkdir -p "$TOOL_DIR"
# A set-up and a test starting the first build together: the second one waits for the first.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOL_DIR/build.lock"
  if ! flock -n 9; then
    say "another build is running; waiting for it"
    flock 9
  fi
  if [ "$RELOCK" = 0 ] && is_built; then
    say "up to date (helm $HELM_VERSION, built by the other run)"
    exit 0
  fi
fi

WORK="$TOOL_DIR/work"
LOG="$TOOL_DIR/build.log"
rm -rf "$WORK"
mkdir -p "$WORK"
export GOTOOLCHAIN=local CGO_ENABLED=0

if [ "$RELOCK" = 1 ]; then
  gomod="$(cd "$WORK" && go mod download -json "helm.sh/helm/v4@$HELM_VERSION" | sed -n -E 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')"
  [ -n "$gomod" ] || die "cannot download helm.sh/helm/v4@$HELM_VERSION"
  go_directive="$(sed -n -E 's/^go ([0-9.]+)$/\1/p' "$gomod")"
  content="$(cat "$HERE/go.mod.tmpl")"
  content="${content//@GO_VERSION@/$go_directive}"
  printf '%s\n' "${content//@HELM_VERSION@/$HELM_VERSION}" >"$WORK/go.mod"
  (cd "$WORK" && GOFLAGS="-buildvcs=false -mod=mod" go mod tidy)
  cp "$WORK/go.mod" "$WORK/go.sum" "$HERE/"
  say "wrote go.mod and go.sum for helm $HELM_VERSION; review the diff, commit it, then run build.sh"
  exit 0
fi

cp "$HERE/go.mod" "$HERE/go.sum" "$WORK/"
grep -Eq "^[[:space:]]*(require )?helm.sh/helm/v4 $HELM_VERSION( |$)" "$WORK/go.mod" ||
  die "go.mod does not pin helm.sh/helm/v4 $HELM_VERSION; run build.sh --relock and commit the result"

export GOFLAGS="-buildvcs=false -mod=readonly"
jobs="${KUBEPULSE_BUILD_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
started=$SECONDS
say "building helm $HELM_VERSION into $BIN ($jobs jobs, nice 10; log: $LOG)"
rm -f "$STAMP"
# The release's own flags (its Makefile): static, stripped, the version stamped in.
if ! (cd "$WORK" && nice -n 10 go build -p "$jobs" -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
  -o "$BIN.tmp" helm.sh/helm/v4/cmd/helm) >"$LOG" 2>&1; then
  tail -n 40 "$LOG" >&2
  die "go build failed after $((SECONDS - started)) s; full log: $LOG"
fi
mv "$BIN.tmp" "$BIN"
"$BIN" version --short | grep -q "^${HELM_VERSION}" || die "built binary reports $("$BIN" version --short), not $HELM_VERSION"
echo "$wanted_stamp" >"$STAMP"
say "built helm $HELM_VERSION in $((SECONDS - started)) s"
