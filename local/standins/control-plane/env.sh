# shellcheck shell=bash disable=SC2034 # variables used by the scripts that source this file
# Sourced by build.sh and cluster.sh: pinned versions and the paths derived from them.
# Every value can be overridden from the environment (e.g. KUBEPULSE_K8S_VERSION=v1.35.4 ./build.sh).
# kwok v0.8.0 is built against Kubernetes 1.36 client libraries, so the control plane tracks 1.36 too.

K8S_VERSION="${KUBEPULSE_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${KUBEPULSE_ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KUBEPULSE_KWOK_VERSION:-v0.8.0}"

CACHE_ROOT="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}"
CP_KEY="${K8S_VERSION}-etcd${ETCD_VERSION}-kwok${KWOK_VERSION}"
CP_DIR="$CACHE_ROOT/control-plane/$CP_KEY"
CP_BIN="$CP_DIR/bin"
CP_STAGES="$CP_DIR/kwok-stages"
CP_STAMP="$CP_DIR/built.stamp"
CP_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

RUN_DIR="${KUBEPULSE_RUN:-$HOME/.cache/kubepulse/run}/control-plane"
