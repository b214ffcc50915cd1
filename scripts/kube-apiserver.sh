#!/usr/bin/env bash
# Build kube-apiserver from Go modules, for the tests that run a real Kubernetes API server on loopback.
#
# Why from source: no distribution here packages kube-apiserver, and envtest's binary download needs the
# internet. `go install k8s.io/kubernetes/cmd/kube-apiserver@v...` fails because k8s.io/kubernetes points
# its staging modules (k8s.io/api, k8s.io/apiserver, ...) at folders of its own repository. A small wrapper
# module requires k8s.io/kubernetes and replaces each staging module with its published v0.N.M of the same
# release (kubernetes/kubernetes#79384). Pinned below and cached outside the checkout keyed by the version:
# a warm run only links the cached binary into .toolchain/bin (seconds). Nothing built here is committed.
# etcd comes from the Debian package etcd-server (scripts/services.sh).
set -euo pipefail

KUBERNETES_VERSION=v1.37.2

here=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${HOMELAB_BACKUPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-backups}
cached_bin="$cache_root/kube-apiserver/$KUBERNETES_VERSION/bin"
bin="$here/.toolchain/bin"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[kube-apiserver] %s\n' "$*" >&2; }

build() {
  local work="$cache_root/work/kube-apiserver-$KUBERNETES_VERSION"
  rm -rf "$work"; mkdir -p "$work"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  (cd "$work"
   printf 'module example.com/homelab-backups/kubeapiserver\n\ngo 1.26\n' > go.mod
   go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" > download.json)
  local upstream_mod
  upstream_mod=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["GoMod"])' "$work/download.json")
  # Every `k8s.io/x => ./staging/src/k8s.io/x` of the release becomes `k8s.io/x => k8s.io/x v0.N.M`.
  local modules
  modules=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$upstream_mod")
  [ -n "$modules" ] || { log "no staging replace directives found in $upstream_mod"; return 1; }
  local m
  (cd "$work"
   go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
   for m in $modules; do go mod edit -replace="$m=$m@$staging_version"; done
   printf 'package kubeapiserver\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' > tools.go
   go mod tidy
   local v="k8s.io/component-base/version"
   local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
   go build -trimpath \
     -ldflags "-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor" \
     -o "$1/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
}

if [ ! -x "$cached_bin/kube-apiserver" ]; then
  staging="$cache_root/kube-apiserver/$KUBERNETES_VERSION.partial/bin"
  rm -rf "$(dirname "$staging")"; mkdir -p "$staging"
  log "building kube-apiserver $KUBERNETES_VERSION (cold: ~8 min on 2 cores)"
  start=$(date +%s)
  build "$staging"
  rm -rf "$(dirname "$cached_bin")"; mv "$(dirname "$staging")" "$(dirname "$cached_bin")"
  log "built in $(( $(date +%s) - start ))s"
fi
mkdir -p "$bin"
ln -sf "$cached_bin/kube-apiserver" "$bin/kube-apiserver"
log "ready: $bin/kube-apiserver ($("$bin/kube-apiserver" --version))"
