#!/usr/bin/env bash
# The project's test command: install, then run every test suite. Services the tests need start on
# loopback inside the test fixtures and stop at the end. Extra arguments go to pytest.
#
# Install: the venv and the engine toolchain (scripts/bootstrap.sh) run in the foreground while the Debian
# packages (scripts/services.sh) and the two test servers' Go builds (MinIO, then kube-apiserver) run beside
# them; each is cached, so a warm run takes seconds. On a cold machine the apt and module downloads overlap the
# compiles, and at most two Go builds run at once (2 cores; each link needs ~1-2 GiB). Every background job is
# waited for and its exit code checked; a failure prints the end of its log.
#
# On a cold machine the suites that need neither MinIO nor kube-apiserver start as soon as the venv, the toolchain
# and the Debian packages are in, while those two still build; the rest run once they are built (two pytest
# sessions, each printing its suite times). A warm run finds the servers built and runs one session.
#
# Tests: pytest-xdist workers (HLB_TEST_WORKERS, default 4 on 2 cores: the R2 lock drill's worker sleeps
# through restic's retry back-off, and the engine suites wait about twice as long as they compute; measured on an
# idle 2-core machine, 3 workers 9 min 0 s and 4 workers 7 min 7 s); `-n 0` or HLB_TEST_WORKERS=0 runs in one
# process. Tests
# sharing a session server stay on one worker (tests/conftest.py). The time per suite is printed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

logs="$root/.run/install"
mkdir -p "$logs"
# Each background job leads its own process group (setsid), so an interrupted run stops its whole build.
setsid -w bash scripts/services.sh install > "$logs/services.log" 2>&1 &  # drill tools, rclone, Chromium, etcd
services=$!
# MinIO: the per-writer key tests' server; kube-apiserver: tests/kubernetes. Cached Go builds.
setsid -w bash -c 'bash scripts/minio.sh >/dev/null && bash scripts/kube-apiserver.sh' > "$logs/servers.log" 2>&1 &
servers=$!
trap 'kill -- "-$services" "-$servers" 2>/dev/null || true' EXIT

failed=0
finish() {  # name pid log: wait for a background install, show its log, fail the run if it failed
  if wait "$2"; then
    sed 's/^/  /' "$3" | tail -n 5 >&2
  else
    printf '[test] %s failed (exit %s); end of %s:\n' "$1" "$?" "$3" >&2
    tail -n 40 "$3" >&2
    failed=1
  fi
}
bash scripts/bootstrap.sh  # on failure the EXIT trap stops the background installs
finish "scripts/services.sh install" "$services" "$logs/services.log"
[ "$failed" = 0 ] || exit 1

.venv/bin/ruff check .
# Bytecode is cached outside the source tree, also when the environment sets PYTHONDONTWRITEBYTECODE: without a
# cache every pytest worker re-rewrites every test module (collection 8.7 -> 3.5 s CPU per worker) and every
# program, pack and dynamic-provider process the engine starts compiles the project again.
export PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-$root/.run/pycache}
unset PYTHONDONTWRITEBYTECODE
workers=${HLB_TEST_WORKERS:-4}
pytest=(.venv/bin/pytest)
[ "$workers" = 0 ] || pytest+=(-n "$workers" --dist loadgroup --no-loadscope-reorder)

if [ "$#" = 0 ] && kill -0 "$servers" 2>/dev/null; then
  # Cold machine: MinIO or kube-apiserver is still building. Every suite that needs neither runs meanwhile, the
  # suites that start them (tests/kubernetes, modules using tests/minio_server.py) once the builds are done.
  mapfile -t server_suites < <(echo tests/kubernetes; grep -rlE '^from tests\.minio_server import' tests \
    --include='test_*.py' | sort)
  echo "[test] MinIO / kube-apiserver still building: first every suite except ${server_suites[*]}" >&2
  status=0
  "${pytest[@]}" "${server_suites[@]/#/--ignore=}" || status=$?
  finish "scripts/minio.sh / scripts/kube-apiserver.sh" "$servers" "$logs/servers.log"
  [ "$failed" = 0 ] || exit 1
  trap - EXIT
  "${pytest[@]}" "${server_suites[@]}" || { rc=$?; [ "$status" != 0 ] || status=$rc; }
  exit "$status"
fi
finish "scripts/minio.sh / scripts/kube-apiserver.sh" "$servers" "$logs/servers.log"
[ "$failed" = 0 ] || exit 1
trap - EXIT
exec "${pytest[@]}" "$@"
