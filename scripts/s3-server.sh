#!/usr/bin/env bash
# A real S3-compatible server on loopback for the local stack, demos and tests: moto's standalone server.
#
# Why moto: it ships in the project venv (no internet here) and implements what the backups rely on
# (versioning, lifecycle, object lock with default GOVERNANCE retention that refuses early deletes).
# It keeps everything in memory: a restart starts empty. Any access key / secret is accepted.
#
#   scripts/s3-server.sh start|stop|status|restart
#   HLB_S3_PORT (default 9400)   HLB_S3_START_TIMEOUT seconds (default 30)
#   HLB_S3_MODE=r2: the same server behind tests/r2_standin, answering as Cloudflare R2 documents (no
#   versioning or S3 Object Lock API, R2 bucket lock rules that refuse overwrites and deletes of young objects).
#
# Pid and log live in .run/ (gitignored), one pair per port, so tests can run their own server
# beside the local stack's.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
host=127.0.0.1
port=${HLB_S3_PORT:-9400}
start_timeout=${HLB_S3_START_TIMEOUT:-30}
mode=${HLB_S3_MODE:-s3}
python="$here/.venv/bin/python"
run_dir="$here/.run"
pid_file="$run_dir/s3-server-$port.pid"
log_file="$run_dir/s3-server-$port.log"
endpoint="http://$host:$port"

log() { printf '[s3-server] %s\n' "$*" >&2; }

case "$port" in
  '' | *[!0-9]*) log "HLB_S3_PORT must be a port number, got '$port'"; exit 2 ;;
esac
case "$mode" in
  s3) server_module=moto.server ;;
  r2) server_module=tests.r2_standin ;;
  *) log "HLB_S3_MODE must be s3 or r2, got '$mode'"; exit 2 ;;
esac

port_answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# The pid only counts if it is still our moto server (either mode) on this port (pids get reused).
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  local cmd
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline")
  case "$cmd" in *moto.server*"-p $port "* | *tests.r2_standin*"-p $port "*) printf '%s\n' "$pid" ;;
    *) return 1 ;; esac
}

start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid) at $endpoint"
    return 0
  fi
  rm -f "$pid_file"
  if port_answers; then
    log "port $port on $host is taken by another process; pick another with HLB_S3_PORT"
    return 1
  fi
  if [ ! -x "$python" ]; then
    log "no project venv at $here/.venv; create it and install requirements.txt first"
    return 1
  fi
  # setsid: its own session, so stopping it never signals the caller's process group; 9>&- so it
  # does not inherit (and hold forever) the lock below.
  PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" \
    setsid "$python" -m "$server_module" -H "$host" -p "$port" </dev/null >"$log_file" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" > "$pid_file"
  local deadline=$((SECONDS + start_timeout))
  until port_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      log "moto server exited during start; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "moto server did not answer on $endpoint within ${start_timeout}s; stopping it (log: $log_file)"
      stop >/dev/null 2>&1 || true
      return 1
    fi
    sleep 0.2
  done
  log "started (pid $pid, $mode mode) at $endpoint; log $log_file"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    log "not running on port $port"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$pid_file"
  log "stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(running_pid); then
    printf 'running pid=%s endpoint=%s log=%s\n' "$pid" "$endpoint" "$log_file"
    return 0
  fi
  printf 'stopped endpoint=%s\n' "$endpoint"
  return 3
}

# One caller at a time per port: concurrent test runs must not race on the pid file.
mkdir -p "$run_dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$run_dir/s3-server-$port.lock"
  flock -w 60 9 || { log "another s3-server.sh is still busy with port $port"; exit 1; }
fi

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop && start ;;
  *) log "usage: $0 start|stop|status|restart (port from HLB_S3_PORT, default 9400)"; exit 2 ;;
esac
