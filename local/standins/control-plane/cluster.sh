#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, without Docker or a kubelet: etcd, kube-apiserver (RBAC on),
# kube-controller-manager, kube-scheduler, and kwok faking one node (kwok-node-0) and the pods scheduled on it.
# Binaries come from build.sh (run it first). State, logs, PID files and the admin kubeconfig live in
#   ${KUBEPULSE_RUN:-~/.cache/kubepulse/run}/control-plane
# Usage: cluster.sh up|down|status|reset|kubeconfig
#   up          start whatever is not running (idempotent), wait until ready, register the fake node
#   down        stop each component (TERM, then KILL after 10 s); idempotent
#   status      print each component's state; exit 1 if any is down
#   reset       down, then delete the state (etcd data, certificates, tokens)
#   kubeconfig  print the admin kubeconfig path
# Ports (loopback only), chosen at `up` and remembered in ports.env until `reset`:
#   KUBEPULSE_ETCD_PORT (23790), KUBEPULSE_ETCD_PEER_PORT (23800), KUBEPULSE_APISERVER_PORT (16443),
#   KUBEPULSE_CONTROLLER_MANAGER_PORT (16257), KUBEPULSE_SCHEDULER_PORT (16259), KUBEPULSE_KWOK_PORT (16247)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"

say() { echo "control-plane: $*"; }
die() { echo "control-plane: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../../harness/lib/process.sh
source "$HERE/../../harness/lib/process.sh"

PKI="$RUN_DIR/pki"
LOGS="$RUN_DIR/logs"
PIDS="$RUN_DIR/pids"
PORTS_FILE="$RUN_DIR/ports.env"
KUBECONFIG_PATH="$RUN_DIR/kubeconfig"
NODE_NAME="kwok-node-0"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_ACCOUNT_ISSUER="https://kubernetes.default.svc.cluster.local"
# Stopping order; starting is the reverse.
STOP_ORDER=(kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

load_ports() {
  if [ -f "$PORTS_FILE" ]; then
    # shellcheck source=/dev/null
    source "$PORTS_FILE"
  fi
  ETCD_PORT="${ETCD_PORT:-${KUBEPULSE_ETCD_PORT:-23790}}"
  ETCD_PEER_PORT="${ETCD_PEER_PORT:-${KUBEPULSE_ETCD_PEER_PORT:-23800}}"
  APISERVER_PORT="${APISERVER_PORT:-${KUBEPULSE_APISERVER_PORT:-16443}}"
  CONTROLLER_MANAGER_PORT="${CONTROLLER_MANAGER_PORT:-${KUBEPULSE_CONTROLLER_MANAGER_PORT:-16257}}"
  SCHEDULER_PORT="${SCHEDULER_PORT:-${KUBEPULSE_SCHEDULER_PORT:-16259}}"
  KWOK_PORT="${KWOK_PORT:-${KUBEPULSE_KWOK_PORT:-16247}}"
}

save_ports() {
  cat >"$PORTS_FILE" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
CONTROLLER_MANAGER_PORT=$CONTROLLER_MANAGER_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
KWOK_PORT=$KWOK_PORT
EOF
}

port_of() {
  case "$1" in
    etcd) echo "$ETCD_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$CONTROLLER_MANAGER_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT" ;;
  esac
}

health_url_of() {
  case "$1" in
    etcd) echo "http://127.0.0.1:$ETCD_PORT/health" ;;
    kube-apiserver) echo "https://127.0.0.1:$APISERVER_PORT/readyz" ;;
    kube-controller-manager) echo "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" ;;
    kube-scheduler) echo "https://127.0.0.1:$SCHEDULER_PORT/healthz" ;;
    kwok) echo "http://127.0.0.1:$KWOK_PORT/healthz" ;;
  esac
}

# --- processes ------------------------------------------------------------------------------------------------
pid_of() { cat "$PIDS/$1.pid" 2>/dev/null || true; }

# Alive and really that component (a recycled PID after a reboot must not count).
is_running() {
  local pid
  pid="$(pid_of "$1")"
  [ -n "$pid" ] && alive "$pid" && ps -p "$pid" -o args= 2>/dev/null | grep -q -- "/$1 "
}

is_healthy() {
  local body
  body="$(curl -s --max-time 2 -k "$(health_url_of "$1")" 2>/dev/null || true)"
  case "$1" in
    etcd) [[ "$body" == *'"health":"true"'* ]] ;;
    *) [ "$body" = "ok" ] ;;
  esac
}


# Starts a component detached from this shell (own session, no inherited stdio), so callers that wait for
# this script's output (test runners) are not held open by the long-running children.
start_component() {
  local name="$1"
  shift
  if is_running "$name"; then
    return 0
  fi
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  echo "=== $(date -u +%FT%TZ) $name $*" >>"$LOGS/$name.log"
  # 9>&-: the child must not inherit (and so hold forever) the lock `up` takes on fd 9.
  nohup "${launcher[@]}" "$CP_BIN/$name" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
  echo $! >"$PIDS/$name.pid"
  say "$name: started (pid $!, log $LOGS/$name.log)"
}

wait_healthy() {
  local name="$1" timeout="${2:-60}" started=$SECONDS
  until is_healthy "$name"; do
    if ! is_running "$name"; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name exited during start-up; log: $LOGS/$name.log"
    fi
    if [ $((SECONDS - started)) -ge "$timeout" ]; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name not healthy after ${timeout} s ($(health_url_of "$name")); log: $LOGS/$name.log"
    fi
    sleep 0.3
  done
}

stop_component() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  if ! is_running "$name"; then
    rm -f "$PIDS/$name.pid"
    return 0
  fi
  stop_pid "$pid"
  rm -f "$PIDS/$name.pid"
  say "$name: stopped (pid $pid)"
}

# --- credentials ----------------------------------------------------------------------------------------------
ensure_pki() {
  mkdir -p "$PKI"
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (apt-get install openssl)"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kubepulse-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
    rm -f "$PKI/apiserver.crt"
  fi
  if [ ! -f "$PKI/apiserver.crt" ]; then
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
      -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" 2>/dev/null
    printf '%s\n' \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
      >"$PKI/apiserver.ext"
    openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 3650 \
      -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt" 2>/dev/null
  fi
  # Signs and verifies ServiceAccount tokens (TokenRequest API and the controller-manager's own tokens).
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  # Static bearer tokens: the admin (system:masters), the two controllers under the user names the bootstrap RBAC
  # policy already binds, and kwok (which writes node and pod status, so it is a master too).
  if [ ! -f "$PKI/tokens.csv" ]; then
    {
      echo "$(openssl rand -hex 24),kubepulse-admin,kubepulse-admin,\"system:masters\""
      echo "$(openssl rand -hex 24),system:kube-controller-manager,system:kube-controller-manager"
      echo "$(openssl rand -hex 24),system:kube-scheduler,system:kube-scheduler"
      echo "$(openssl rand -hex 24),kwok-controller,kwok-controller,\"system:masters\""
    } >"$PKI/tokens.csv"
  fi
  chmod 600 "$PKI"/*.key "$PKI/tokens.csv"
  write_kubeconfig "$KUBECONFIG_PATH" kubepulse-admin
  write_kubeconfig "$RUN_DIR/controller-manager.kubeconfig" system:kube-controller-manager
  write_kubeconfig "$RUN_DIR/scheduler.kubeconfig" system:kube-scheduler
  write_kubeconfig "$RUN_DIR/kwok.kubeconfig" kwok-controller
}

token_of() { awk -F, -v user="$1" '$2 == user { print $1 }' "$PKI/tokens.csv"; }

write_kubeconfig() {
  local path="$1" user="$2" ca_data
  ca_data="$(base64 <"$PKI/ca.crt" | tr -d '\n')"
  umask 077
  cat >"$path" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: kubepulse-local
    cluster:
      server: https://127.0.0.1:$APISERVER_PORT
      certificate-authority-data: $ca_data
users:
  - name: $user
    user:
      token: $(token_of "$user")
contexts:
  - name: kubepulse-local
    context:
      cluster: kubepulse-local
      user: $user
current-context: kubepulse-local
EOF
  umask 022
}

# --- API calls (no kubectl here) ------------------------------------------------------------------------------
api() { # method, path, [json body]; prints the body, returns non-zero on HTTP >= 400 except where allowed
  local method="$1" path="$2" body="${3:-}"
  # A user agent other than curl's gets compact JSON, which the greps below rely on.
  local args=(-s --max-time 10 --cacert "$PKI/ca.crt" -A kubepulse-cluster-sh
    -H "Authorization: Bearer $(token_of kubepulse-admin)"
    -X "$method" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "https://127.0.0.1:$APISERVER_PORT$path"
}

http_status() { tail -n 1; }

register_fake_node() {
  local node status
  node="$(
    cat <<EOF
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$NODE_NAME",
 "annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
 "labels":{"kubernetes.io/hostname":"$NODE_NAME","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","type":"kwok"}},
 "status":{"capacity":{"cpu":"16","memory":"64Gi","pods":"110"},"allocatable":{"cpu":"16","memory":"64Gi","pods":"110"},
  "nodeInfo":{"architecture":"amd64","operatingSystem":"linux","kubeletVersion":"$K8S_VERSION"}}}
EOF
  )"
  status="$(api POST /api/v1/nodes "$node" | http_status)"
  case "$status" in
    201) say "node $NODE_NAME: registered" ;;
    409) ;;
    *) die "node $NODE_NAME: create failed with HTTP $status" ;;
  esac
}

wait_for() { # description, timeout seconds, command…
  local what="$1" timeout="$2" started=$SECONDS
  shift 2
  until "$@"; do
    [ $((SECONDS - started)) -lt "$timeout" ] || die "$what: not ready after ${timeout} s"
    sleep 0.5
  done
}

node_ready() { api GET "/api/v1/nodes/$NODE_NAME" | grep -q '"type":"Ready","status":"True"'; }
default_service_account_exists() {
  [ "$(api GET /api/v1/namespaces/default/serviceaccounts/default | http_status)" = 200 ]
}

# --- commands -------------------------------------------------------------------------------------------------
cmd_up() {
  local started=$SECONDS component all_running=1
  for component in "${CP_COMPONENTS[@]}"; do
    [ -x "$CP_BIN/$component" ] || die "$component not built; run $HERE/build.sh first"
  done
  mkdir -p "$LOGS" "$PIDS" "$RUN_DIR/etcd"
  # Two callers starting it at once (a test and the demo, say) must not start every component twice.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/up.lock"
    flock 9
  fi
  load_ports
  for component in "${CP_COMPONENTS[@]}"; do is_running "$component" || all_running=0; done
  if [ "$all_running" = 1 ] && is_healthy kube-apiserver; then
    say "already running (kubeconfig: $KUBECONFIG_PATH)"
    return 0
  fi
  # Check every port before starting anything, so a conflict leaves nothing half-started.
  for component in "${CP_COMPONENTS[@]}"; do
    if ! is_running "$component" && port_in_use 127.0.0.1 "$(port_of "$component")"; then
      die "$component: 127.0.0.1:$(port_of "$component") is taken by another process; set another port (see the header of $0) and run reset"
    fi
  done
  if ! is_running etcd && port_in_use 127.0.0.1 "$ETCD_PEER_PORT"; then
    die "etcd: peer port 127.0.0.1:$ETCD_PEER_PORT is taken; set KUBEPULSE_ETCD_PEER_PORT and run reset"
  fi
  save_ports
  ensure_pki

  start_component etcd \
    --name kubepulse --data-dir "$RUN_DIR/etcd" --log-level warn --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kubepulse=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_healthy etcd 30

  start_component kube-apiserver \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --token-auth-file "$PKI/tokens.csv" --authorization-mode Node,RBAC \
    --service-account-issuer "$SERVICE_ACCOUNT_ISSUER" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged --profiling=false \
    --endpoint-reconciler-type none
  wait_healthy kube-apiserver 90

  start_component kube-controller-manager \
    --kubeconfig "$RUN_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false --profiling=false \
    --controllers '*,-nodeipam' \
    --use-service-account-credentials --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR"
  start_component kube-scheduler \
    --kubeconfig "$RUN_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
  # kwok v0.8 has no built-in stages: node/fast, node/heartbeat-with-lease and pod/fast as copied by build.sh.
  local stage_flags=() stage
  for stage in "$CP_STAGES"/*/*/*.yaml; do stage_flags+=(-c "$stage"); done
  [ "${#stage_flags[@]}" -gt 0 ] || die "no kwok stage files in $CP_STAGES; run $HERE/build.sh"
  start_component kwok \
    --kubeconfig "$RUN_DIR/kwok.kubeconfig" --server-address "127.0.0.1:$KWOK_PORT" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 "${stage_flags[@]}"
  wait_healthy kube-controller-manager 60
  wait_healthy kube-scheduler 60
  wait_healthy kwok 60

  register_fake_node
  wait_for "node $NODE_NAME Ready (kwok)" 60 node_ready
  wait_for "ServiceAccount default/default (controller-manager)" 60 default_service_account_exists
  say "up in $((SECONDS - started)) s; kubeconfig: $KUBECONFIG_PATH"
}

cmd_down() {
  local component
  load_ports
  for component in "${STOP_ORDER[@]}"; do stop_component "$component"; done
  say "down"
}

cmd_status() {
  local component pid down=0
  load_ports
  for component in "${CP_COMPONENTS[@]}"; do
    pid="$(pid_of "$component")"
    if ! is_running "$component"; then
      printf '%-24s down\n' "$component"
      down=1
    elif is_healthy "$component"; then
      printf '%-24s up        pid %-8s %s\n' "$component" "$pid" "$(health_url_of "$component")"
    else
      printf '%-24s unhealthy pid %-8s %s\n' "$component" "$pid" "$(health_url_of "$component")"
      down=1
    fi
  done
  echo "kubeconfig: $KUBECONFIG_PATH"
  return "$down"
}

cmd_reset() {
  cmd_down
  rm -rf "$RUN_DIR"
  say "state deleted ($RUN_DIR)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  *) die "usage: $0 up|down|status|reset|kubeconfig" ;;
esac
