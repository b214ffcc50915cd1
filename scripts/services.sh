#!/usr/bin/env bash
# Tools the tests run for real, from the distribution: restic, pgBackRest, PostgreSQL, rclone, MariaDB and Redis
# for the restore drills, Chromium, which renders the runbook's estate diagram headless in its test, and etcd for
# the Kubernetes API server the apply-mode tests start (kube-apiserver itself is built by
# scripts/kube-apiserver.sh).
#
#   scripts/services.sh install   install what is missing (idempotent; apt-get update only when needed)
#   scripts/services.sh status    print which tools are present and their versions
#
# Nothing is started here: the tests start their own PostgreSQL, S3, etcd and API servers on loopback and stop them.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

# Debian package -> a command it provides (how we tell whether it is present).
packages=(restic:restic pgbackrest:pgbackrest postgresql:initdb rclone:rclone chromium:chromium etcd-server:etcd
          shellcheck:shellcheck mariadb-server:mariadbd mariadb-client:mariadb-dump redis-server:redis-server
          redis-tools:redis-check-rdb sqlite3:sqlite3)
# Host backups (issue 17): systemd-analyze verifies the rendered units, curl is what they ping with, and
# nix-instantiate parses and evaluates the rendered NixOS snippet.
packages+=(systemd:systemd-analyze curl:curl nix-bin:nix-instantiate)
# The guest restore drill (issue 16) runs on the curl image's busybox shell: its script is run under busybox too.
packages+=(busybox:busybox)

has_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  # mariadbd lives in /usr/sbin, outside a normal user's PATH.
  [ -x "/usr/sbin/$1" ] && return 0
  # PostgreSQL's server binaries live outside PATH on Debian.
  compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}

missing() {
  local entry
  for entry in "${packages[@]}"; do
    has_command "${entry#*:}" || printf '%s\n' "${entry%%:*}"
  done
}

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
  local todo
  mapfile -t todo < <(missing)
  if [ "${#todo[@]}" -eq 0 ]; then
    log "${packages[*]%%:*} are present"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${todo[*]} and no apt-get here: install them with your package manager"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt cannot find a candidate for what we need.
  local name refresh=false
  for name in "${todo[@]}"; do
    if ! apt-cache policy "$name" 2>/dev/null | grep -q 'Candidate: [0-9]'; then refresh=true; fi
  done
  if [ "$refresh" = true ]; then
    log "apt-get update (no install candidate for some of: ${todo[*]})"
    sudo_if_needed apt-get -o DPkg::Lock::Timeout=900 update -q
  fi
  log "installing ${todo[*]}"
  # Other installs may hold the dpkg lock (several checkouts share a machine): wait for it instead of failing.
  sudo_if_needed apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${todo[@]}"
  mapfile -t todo < <(missing)
  if [ "${#todo[@]}" -ne 0 ]; then
    log "still missing after install: ${todo[*]}"
    return 1
  fi
}

status() {
  local entry tool
  for entry in "${packages[@]}"; do
    tool=${entry#*:}
    if has_command "$tool"; then
      printf '%-11s present  %s\n' "${entry%%:*}" "$(dpkg-query -W -f '${Version}' "${entry%%:*}" 2>/dev/null || true)"
    else
      printf '%-11s missing\n' "${entry%%:*}"
    fi
  done
}

case "${1:-}" in
  install) install ;;
  status) status ;;
  *) log "usage: $0 install|status"; exit 2 ;;
esac
