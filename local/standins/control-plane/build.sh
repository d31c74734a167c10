#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from the Go module proxy into
#   ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/control-plane/<k8s>-etcd<ver>-kwok<ver>/bin
# No Docker, nothing written inside the repository. A stamp (versions + hash of the build inputs) makes a
# second run a no-op. The first run takes several minutes on 2 cores; it prints a progress line every 15 s and
# logs the go tool's output to <cache dir>/build.log.
# The module graph is locked in the repository: go/<component>/go.mod and go.sum are copied into the work
# directory and every go command runs with -mod=readonly, so a module whose content differs from its committed
# hash fails the build, and nothing is resolved afresh. After changing a version in env.sh, run
# `build.sh --relock`: it resolves from the templates (go/<component>/go.mod.tmpl, `go mod tidy`) and writes the
# new go.mod/go.sum into the repository for review and commit.
# Usage: build.sh [--print-bin-dir | --relock]
#   KUBEPULSE_BUILD_JOBS  parallel compile jobs (default: number of CPUs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"

say() { echo "control-plane build: $*"; }
die() { echo "control-plane build: $*" >&2; exit 1; }

if [ "${1:-}" = "--print-bin-dir" ]; then
  echo "$CP_BIN"
  exit 0
fi
RELOCK=0
[ "${1:-}" = "--relock" ] && RELOCK=1

hash_stdin() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d' ' -f1; }

# The stamp records what was built and from which recipe: bump RECIPE when the build flags below change;
# changing a committed go.mod/go.sum changes the hash. Either rebuilds.
RECIPE=1
LOCKED=(etcd/go.mod etcd/go.sum kubernetes/go.mod kubernetes/go.sum)
inputs_hash="$(for f in "${LOCKED[@]}"; do cat "$HERE/go/$f"; done | hash_stdin)"
wanted_stamp="$CP_KEY recipe$RECIPE locked $inputs_hash"
# Its own file: checkouts from before the locks keep reading (and writing) $CP_STAMP.
STAMP="$CP_DIR/built-from-locks.stamp"

is_built() {
  [ "$(cat "$STAMP" 2>/dev/null || true)" = "$wanted_stamp" ] || return 1
  local component
  for component in "${CP_COMPONENTS[@]}"; do [ -x "$CP_BIN/$component" ] || return 1; done
  [ -d "$CP_STAGES/pod/fast" ]
}

# Binaries built (by the same recipe, before the locks were committed) from exactly the module graph now
# committed are the same binaries: take them over instead of compiling again.
adopt_unlocked_build() {
  local f
  case "$(cat "$CP_STAMP" 2>/dev/null || true)" in "$CP_KEY recipe$RECIPE "*) ;; *) return 1 ;; esac
  for f in "${LOCKED[@]}"; do cmp -s "$HERE/go/$f" "$CP_DIR/work/$f" || return 1; done
  echo "$wanted_stamp" >"$STAMP"
  is_built
}

if [ "$RELOCK" = 0 ]; then
  if is_built; then
    say "up to date ($CP_KEY, $CP_BIN)"
    exit 0
  fi
  if adopt_unlocked_build; then
    say "up to date ($CP_KEY, $CP_BIN; built from the committed module graph)"
    exit 0
  fi
fi

command -v go >/dev/null 2>&1 || die "go is missing; install Go >= 1.26 (kwok $KWOK_VERSION and Kubernetes 1.36 need it)"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "$go_minor" -ge 26 ] || die "Go >= 1.26 required, found $(go env GOVERSION)"

mkdir -p "$CP_DIR"
# Two concurrent first runs (set-up and a test, say) would race on the same files: the second one waits.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CP_DIR/build.lock"
  if ! flock -n 9; then
    say "another build is running; waiting for it"
    flock 9
  fi
  if [ "$RELOCK" = 0 ] && is_built; then
    say "up to date ($CP_KEY, built by the other run)"
    exit 0
  fi
fi

LOG="$CP_DIR/build.log"
WORK="$CP_DIR/work"
: >"$LOG"
rm -f "$STAMP"
mkdir -p "$CP_BIN" "$WORK"

export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly"
jobs="${KUBEPULSE_BUILD_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
build_started=$SECONDS

# Runs a command with its output in the log, printing "<label>: <elapsed>" every 15 s until it ends.
run_logged() {
  local label="$1"
  shift
  local started=$SECONDS last_note=$SECONDS pid status
  say "$label: started"
  echo "=== $label: $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - last_note)) -ge 15 ]; then
      last_note=$SECONDS
      say "$label: still running, $((SECONDS - started)) s"
    fi
  done
  status=0
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- last lines of $LOG:" >&2
    tail -n 40 "$LOG" >&2
    die "$label failed (exit $status) after $((SECONDS - started)) s; full log: $LOG"
  fi
  say "$label: done in $((SECONDS - started)) s"
}

# Path of a module version's go.mod in the module cache (downloads it if needed).
module_gomod() {
  go mod download -json "$1" | sed -n -E 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p'
}

module_go_directive() { sed -n -E 's/^go ([0-9.]+)$/\1/p' "$1"; }

render_template() { # template, output, then KEY=VALUE pairs replacing @KEY@
  local template="$1" out="$2" content pair
  shift 2
  content="$(cat "$template")"
  for pair in "$@"; do content="${content//@${pair%%=*}@/${pair#*=}}"; done
  printf '%s\n' "$content" >"$out"
}

# Copies a component's committed go.mod/go.sum into its work directory and checks they pin the version env.sh
# asks for (a version override without --relock would otherwise build something else than it says).
use_locked_modules() { # component, module path, version
  local component="$1" module="$2" version="$3"
  mkdir -p "$WORK/$component"
  cp "$HERE/go/$component/go.mod" "$HERE/go/$component/go.sum" "$WORK/$component/"
  grep -Eq "^[[:space:]]*(require )?$module $version( |$)" "$WORK/$component/go.mod" ||
    die "go/$component/go.mod does not pin $module $version (env.sh); run build.sh --relock and commit the result"
  (cd "$WORK/$component" && go mod download)
}

# Resolves a component afresh from its template (--relock only) and writes the result into the repository.
relock_modules() { # component
  local component="$1"
  (cd "$WORK/$component" && GOFLAGS="-buildvcs=false -mod=mod" go mod tidy)
  cp "$WORK/$component/go.mod" "$WORK/$component/go.sum" "$HERE/go/$component/"
}

# --- etcd ---------------------------------------------------------------------------------------------------
prepare_etcd() {
  if [ "$RELOCK" = 0 ]; then
    use_locked_modules etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
    return
  fi
  local gomod
  gomod="$(module_gomod "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  [ -n "$gomod" ] || die "cannot download go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$WORK/etcd"
  render_template "$HERE/go/etcd/go.mod.tmpl" "$WORK/etcd/go.mod" \
    "GO_VERSION=$(module_go_directive "$gomod")" "ETCD_VERSION=$ETCD_VERSION"
  relock_modules etcd
}

build_etcd() {
  (cd "$WORK/etcd" && go build -p "$jobs" -trimpath -ldflags '-s -w' -o "$CP_BIN/etcd" go.etcd.io/etcd/server/v3)
}

# --- Kubernetes -----------------------------------------------------------------------------------------------
prepare_kubernetes() {
  if [ "$RELOCK" = 0 ]; then
    use_locked_modules kubernetes k8s.io/kubernetes "$K8S_VERSION"
    return
  fi
  local gomod staging_version replaces
  gomod="$(module_gomod "k8s.io/kubernetes@$K8S_VERSION")"
  [ -n "$gomod" ] || die "cannot download k8s.io/kubernetes@$K8S_VERSION"
  # Staging modules are published as v0.<minor>.<patch> for release v1.<minor>.<patch>.
  staging_version="v0.${K8S_VERSION#v1.}"
  replaces="$(awk -v to="$staging_version" '
    $1 == "require" && $2 != "(" { $1 = ""; sub(/^ /, "") }
    $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { printf "replace %s => %s %s\n", $1, $1, to }' "$gomod" | sort -u)"
  [ -n "$replaces" ] || die "found no v0.0.0 staging modules in $gomod; the wrapper recipe no longer fits"
  mkdir -p "$WORK/kubernetes"
  render_template "$HERE/go/kubernetes/go.mod.tmpl" "$WORK/kubernetes/go.mod" \
    "GO_VERSION=$(module_go_directive "$gomod")" "K8S_VERSION=$K8S_VERSION" "REPLACES=$replaces"
  relock_modules kubernetes
}

build_kubernetes_component() {
  local component="$1" minor version_flags="" pkg
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  # Without these the binaries report v0.0.0-master, which breaks version checks (kwok's, clients').
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    version_flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    version_flags+=" -X $pkg.gitTreeState=clean"
  done
  (cd "$WORK/kubernetes" &&
    go build -p "$jobs" -trimpath -ldflags "-s -w$version_flags" -o "$CP_BIN/$component" \
      "k8s.io/kubernetes/cmd/$component")
}

# --- kwok -----------------------------------------------------------------------------------------------------
build_kwok() {
  GOBIN="$CP_BIN" go install -p "$jobs" -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# kwok v0.8 has no built-in stages; keep a copy of the ones it ships next to the binaries so the cached
# control plane still runs when the Go module cache is gone (e.g. CI restoring only this directory).
copy_kwok_stages() {
  local module_dir stage
  module_dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
  rm -rf "$CP_STAGES"
  mkdir -p "$CP_STAGES"
  for stage in node/fast node/heartbeat-with-lease pod/fast; do
    [ -d "$module_dir/kustomize/stage/$stage" ] || die "kwok stage $stage not found in $module_dir"
    mkdir -p "$CP_STAGES/$stage"
    cp "$module_dir/kustomize/stage/$stage"/*.yaml "$CP_STAGES/$stage/"
    rm -f "$CP_STAGES/$stage/kustomization.yaml"
  done
}

# A component already built by an interrupted or failed run of the same recipe is kept.
component_done() {
  [ "$(cat "$CP_BIN/.$1.stamp" 2>/dev/null || true)" = "$wanted_stamp" ] && [ -x "$CP_BIN/$1" ] &&
    { [ "$1" != kwok ] || [ -d "$CP_STAGES/pod/fast" ]; }
}
mark_done() { echo "$wanted_stamp" >"$CP_BIN/.$1.stamp"; }

if [ "$RELOCK" = 1 ]; then
  run_logged "etcd $ETCD_VERSION: resolve modules afresh" prepare_etcd
  run_logged "kubernetes $K8S_VERSION: resolve modules afresh" prepare_kubernetes
  say "wrote go/etcd and go/kubernetes go.mod + go.sum; review the diff, commit it, then run build.sh"
  exit 0
fi

say "building $CP_KEY into $CP_BIN ($jobs jobs; log: $LOG)"
if ! component_done etcd; then
  run_logged "etcd $ETCD_VERSION: resolve modules" prepare_etcd
  run_logged "etcd $ETCD_VERSION: compile" build_etcd
  mark_done etcd
fi
if ! component_done kwok; then
  run_logged "kwok $KWOK_VERSION: compile" build_kwok
  run_logged "kwok $KWOK_VERSION: copy stages" copy_kwok_stages
  mark_done kwok
fi
prepared_kubernetes=0
for component in kube-apiserver kube-controller-manager kube-scheduler; do
  component_done "$component" && continue
  if [ "$prepared_kubernetes" = 0 ]; then
    run_logged "kubernetes $K8S_VERSION: resolve modules" prepare_kubernetes
    prepared_kubernetes=1
  fi
  run_logged "$component $K8S_VERSION: compile" build_kubernetes_component "$component"
  mark_done "$component"
done

echo "$wanted_stamp" >"$STAMP"
times >"$WORK/cpu-times" # in this shell: a subshell would not see the go tool's CPU time
read -r cpu_user cpu_sys < <(tail -n 1 "$WORK/cpu-times")
say "built $CP_KEY in $((SECONDS - build_started)) s (CPU: user $cpu_user, sys $cpu_sys)"
