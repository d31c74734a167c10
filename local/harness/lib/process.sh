# shellcheck shell=bash
# Process handling shared by the local service scripts (redis, prometheus, the control plane). Sourced, not run.
# The caller defines say() and die().

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# True if the process exists and is not a zombie: an exited daemon waits to be reaped by PID 1, which in some
# containers takes seconds, and no longer holds its port.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    local state
    state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null || true)"
    [ "$state" != "Z" ] || return 1
  fi
  return 0
}

# The PID in pidfile $1 if that process is alive and its command line matches the extended regex $2 (a PID
# recycled by something else after a crash or reboot must not count); prints nothing otherwise.
pid_from_file() {
  [ -f "$1" ] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] || return 0
  alive "$pid" || return 0
  ps -p "$pid" -o args= 2>/dev/null | grep -qE -- "$2" || return 0
  echo "$pid"
}

# SIGTERM to PID $1, then SIGKILL if it is still alive after 10 s; returns once it is gone (or 2 s after KILL).
stop_pid() {
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && [ "$waited" -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    say "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    waited=0
    while alive "$pid" && [ "$waited" -lt 20 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
}

# True if something accepts TCP connections on host $1, port $2.
port_in_use() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
