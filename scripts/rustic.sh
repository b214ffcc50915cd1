#!/usr/bin/env bash
# Build rustic (the Rust restic-compatible client) from crates.io, for the drill of the rustic profile the
# program renders for hosts.
#
# Why from source: Debian has no rustic package, and rustic's installers download prebuilt binaries; crates.io
# is reachable here. The build is cached outside the checkout, keyed by the pin: a warm run only links it.
# It builds at low priority (nice) with one job, so it does not starve other work on a shared machine.
#
#   scripts/rustic.sh          build if missing, link .toolchain/bin/rustic, print its path
set -euo pipefail

RUSTIC_VERSION=0.11.4

here=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${HOMELAB_BACKUPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-backups}
cached="$cache_root/rustic/$RUSTIC_VERSION/bin/rustic"
bin="$here/.toolchain/bin"

log() { printf '[rustic] %s\n' "$*" >&2; }

if [ ! -x "$cached" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    log "cargo is missing: install a Rust toolchain (rustic $RUSTIC_VERSION needs rustc >= 1.91)"
    exit 1
  fi
  staging="$cache_root/rustic/$RUSTIC_VERSION.partial"
  rm -rf "$staging"
  log "building rustic-rs $RUSTIC_VERSION from crates.io (cold: see README, 'Hosts')"
  start=$(date +%s)
  # Default features add a TUI, WebDAV server, OpenTelemetry, Prometheus and jq; the profile drill needs none
  # of them, and they roughly double the build. Backends (S3 through OpenDAL) come with rustic_backend.
  CARGO_TARGET_DIR="$cache_root/work/rustic-target" nice -n 19 \
    cargo install --locked --no-default-features --jobs "${RUSTIC_BUILD_JOBS:-1}" \
      --root "$staging" rustic-rs --version "=$RUSTIC_VERSION"
  mkdir -p "$(dirname "$(dirname "$cached")")"
  rm -rf "$(dirname "$(dirname "$cached")")"
  mv "$staging" "$(dirname "$(dirname "$cached")")"
  log "built in $(( $(date +%s) - start ))s"
fi
mkdir -p "$bin"
ln -sf "$cached" "$bin/rustic"
log "ready: $bin/rustic"
printf '%s\n' "$bin/rustic"
