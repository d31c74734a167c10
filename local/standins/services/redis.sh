#!/usr/bin/env bash
# Local Redis for kubepulse: a private redis-server on loopback, no persistence, state under the cache dir.
#
#   local/standins/services/redis.sh up        start (installs redis-server via apt if missing); harmless if already up
#   local/standins/services/redis.sh down      stop by PID and wait until it is gone; harmless if already down
#   local/standins/services/redis.sh status    exit 0 if up and answering PING, 1 otherwise
#   local/standins/services/redis.sh restart   down + up (tests use down/up to simulate an outage)
#   local/standins/services/redis.sh install   only make sure redis-server is installed
#   local/standins/services/redis.sh url       print redis://127.0.0.1:PORT
#
# Env: KUBEPULSE_REDIS_PORT (default 6390, so a system Redis on 6379 is left alone),
#      KUBEPULSE_CACHE (default ~/.cache/kubepulse); files live in $KUBEPULSE_CACHE/run/redis/.
set -euo pipefail

PORT="${KUBEPULSE_REDIS_PORT:-6390}"
HOST=127.0.0.1
RUN_DIR="${KUBEPULSE_CACHE:-$HOME/.cache/kubepulse}/run/redis"
PID_FILE="$RUN_DIR/redis.pid"
LOG_FILE="$RUN_DIR/redis.log"
DATA_DIR="$RUN_DIR/data"

say() { echo "redis: $*"; }
die() { echo "redis: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../../harness/lib/process.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../harness/lib" && pwd)/process.sh"

# Installs redis-server with apt if it is missing; runs `apt-get update` only when apt can't see the package.
ensure_installed() {
  if command -v redis-server >/dev/null 2>&1; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "redis-server is missing and apt-get is not available; install Redis >= 6 yourself"
  export DEBIAN_FRONTEND=noninteractive
  local policy
  policy="$(apt-cache policy redis-server 2>/dev/null || true)"
  if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    say "apt lists don't know redis-server yet: apt-get update"
    as_root apt-get update -qq
  fi
  say "installing redis-server (apt)"
  if ! as_root apt-get install -y -qq --no-install-recommends redis-server >/dev/null; then
    say "install failed (stale apt lists?): apt-get update and retry"
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  fi
  command -v redis-server >/dev/null 2>&1 || die "apt-get install redis-server did not provide redis-server"
  say "installed $(redis-server --version | awk '{print $3}')"
}

running_pid() { pid_from_file "$PID_FILE" 'redis-server'; }

# PING over TCP; uses redis-cli when present, bash's /dev/tcp otherwise.
ping_ok() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h "$HOST" -p "$PORT" --no-auth-warning ping 2>/dev/null)" = "PONG" ]
  else
    local reply
    reply="$(timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'PING\r\n' >&3 && head -c 7 <&3" 2>/dev/null || true)"
    [[ "$reply" == "+PONG"* ]]
  fi
}

cmd_up() {
  ensure_installed
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    if ping_ok; then
      say "already running (pid $pid) on $HOST:$PORT"
      return 0
    fi
    die "pid $pid is alive but not answering on $HOST:$PORT; see $LOG_FILE (or run: $0 down)"
  fi
  if port_in_use "$HOST" "$PORT"; then
    die "$HOST:$PORT is already taken by another process; set KUBEPULSE_REDIS_PORT to a free port"
  fi
  mkdir -p "$DATA_DIR"
  rm -f "$PID_FILE"
  redis-server \
    --bind "$HOST" --port "$PORT" --protected-mode yes \
    --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE" --dir "$DATA_DIR" \
    --save '' --appendonly no \
    || die "redis-server failed to start; see $LOG_FILE"
  for _ in $(seq 1 100); do
    if ping_ok; then
      say "started (pid $(running_pid)) on $HOST:$PORT; no persistence; files in $RUN_DIR"
      return 0
    fi
    sleep 0.05
  done
  tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
  die "started but not answering PING on $HOST:$PORT after 5 s"
}

cmd_down() {
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  stop_pid "$pid"
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ] && ping_ok; then
    say "running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  if [ -n "$pid" ]; then say "pid $pid alive but not answering on $HOST:$PORT"; else say "not running"; fi
  return 1
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) cmd_down && cmd_up ;;
  install) ensure_installed && say "redis-server present: $(command -v redis-server)" ;;
  url) echo "redis://$HOST:$PORT" ;;
  *) echo "usage: $0 up|down|status|restart|install|url" >&2; exit 2 ;;
esac
