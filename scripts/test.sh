#!/usr/bin/env bash
# The project's test command: install, then run every test suite. Services the tests need start on
# loopback inside the test fixtures and stop at the end. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/bootstrap.sh
bash scripts/services.sh install   # restore-drill tools, rclone, Chromium and etcd
bash scripts/minio.sh >/dev/null   # the MinIO server the per-writer key tests run against (cached build)
bash scripts/kube-apiserver.sh     # the real Kubernetes API server of tests/kubernetes (cached Go build)
.venv/bin/ruff check .
.venv/bin/pytest "$@"
