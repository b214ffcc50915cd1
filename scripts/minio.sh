#!/usr/bin/env bash
# Build the MinIO server from Go modules, for the tests that exercise per-writer MinIO identities for real.
#
# Why from source: there is no internet here beyond the Go module proxy, and MinIO's installers download
# prebuilt binaries. The proxy serves MinIO only as a pseudo-version (MinIO stopped tagging Go module
# versions); its go.mod carries no replace directives, so a plain module build works.
# The binary is cached outside the checkout, keyed by the pin: a warm run only links it (seconds).
#
#   scripts/minio.sh          build if missing, link .toolchain/bin/minio, print its path
set -euo pipefail

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

here=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${HOMELAB_BACKUPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-backups}
cached="$cache_root/minio/$MINIO_VERSION/minio"
bin="$here/.toolchain/bin"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[minio] %s\n' "$*" >&2; }

if [ ! -x "$cached" ]; then
  work="$cache_root/work/minio"
  mkdir -p "$work"
  cat > "$work/go.mod" <<MOD
module example.com/homelab-backups/minio

go 1.24.0

require github.com/minio/minio $MINIO_VERSION
MOD
  printf 'package minio\n\nimport _ "github.com/minio/minio/cmd"\n' > "$work/tools.go"
  log "building MinIO server $MINIO_VERSION (cold: see README, 'Test tools')"
  start=$(date +%s)
  staging="$cached.partial"
  mkdir -p "$(dirname "$cached")"
  (cd "$work" && go mod tidy >/dev/null 2>&1 || true
   go build -trimpath -tags kqueue -ldflags "-s -w" -o "$staging" github.com/minio/minio)
  mv "$staging" "$cached"
  log "built in $(( $(date +%s) - start ))s"
fi
mkdir -p "$bin"
ln -sf "$cached" "$bin/minio"
log "ready: $bin/minio"
printf '%s\n' "$bin/minio"
