#!/usr/bin/env bash
# Build the Pulumi CLI, a Python language host and the Kubernetes provider from Go modules.
#
# Why from source: there is no internet here, and the usual installers download prebuilt binaries.
# Everything is pinned below and cached outside the checkout (keyed by the pins), so a warm run takes
# seconds and a fresh clone reuses earlier builds. Nothing built here is ever committed.
set -euo pipefail

PULUMI_VERSION=v3.260.0
# The Python language host has had its own Go module since v3.80, and the module proxy reachable here
# serves no version of that module. v3.79.0 is the last SDK release that carries the host inside the
# sdk/v3 module; it speaks the same LanguageRuntime protocol (Run, RunPlugin, GetRequiredPlugins).
LANGUAGE_HOST_SDK_VERSION=v3.79.0
# pulumi-kubernetes has no provider tags; the proxy serves this pseudo-version.
KUBERNETES_PROVIDER_VERSION=v4.0.0-20260115033456-f47bc2d6f199
KUBERNETES_PROVIDER_STAMP=4.25.0  # the release built from this commit; the Python SDK pins the same

here=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${HOMELAB_BACKUPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-backups}
key="pulumi-${PULUMI_VERSION}_host-${LANGUAGE_HOST_SDK_VERSION}_k8s-${KUBERNETES_PROVIDER_VERSION}"
cached_bin="$cache_root/toolchain/$key/bin"
bin="$here/.toolchain/bin"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[toolchain] %s\n' "$*" >&2; }

build_cli() {
  local work="$cache_root/work/cli"
  mkdir -p "$work"
  cat > "$work/go.mod" <<MOD
module example.com/homelab-backups/toolchain

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)

// Copied from pkg/v3's go.mod: replace directives of dependencies are ignored.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
  printf 'package toolchain\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > "$work/tools.go"
  (cd "$work" && go mod tidy >/dev/null 2>&1 || true
   go build -trimpath -tags osusergo,grpcnotrace \
     -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
     -o "$1/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  local sdk_dir
  sdk_dir=$(cd "$work" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$1/pulumi-language-python-exec"
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$1/pulumi-resource-pulumi-python"
}

build_language_host() {
  local work="$cache_root/work/host"
  mkdir -p "$work"
  cat > "$work/go.mod" <<MOD
module example.com/homelab-backups/languagehost

go 1.26

require github.com/pulumi/pulumi/sdk/v3 $LANGUAGE_HOST_SDK_VERSION
MOD
  printf 'package languagehost\n\nimport _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"\n' > "$work/tools.go"
  (cd "$work" && go mod tidy >/dev/null 2>&1 || true
   go build -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w" \
     -o "$1/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
}

build_kubernetes() {
  local work="$cache_root/work/k8s"
  mkdir -p "$work"
  local mod="github.com/pulumi/pulumi-kubernetes/provider/v4"
  (cd "$work"
   [ -f go.mod ] || printf 'module example.com/homelab-backups/k8s\n\ngo 1.26\n' > go.mod
   go mod download -json "$mod@$KUBERNETES_PROVIDER_VERSION" > download.json)
  local src
  src=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["Dir"])' "$work/download.json")
  # The provider's main package go:embeds two generated files that the module zip leaves out:
  # build in a writable copy, generating them from the schema the module ships.
  local tree="$work/src"
  rm -rf "$tree"; cp -r "$src" "$tree"; chmod -R u+w "$tree"
  python3 - "$tree" "$KUBERNETES_PROVIDER_STAMP" <<'PY'
import json, pathlib, sys
tree, version = pathlib.Path(sys.argv[1]), sys.argv[2]
cmd = tree / "cmd" / "pulumi-resource-kubernetes"
schema = json.loads((cmd / "schema.json").read_text())
schema["version"] = version
(cmd / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
mapping = cmd / "terraform-mapping.json"
data = json.loads(mapping.read_text()) if mapping.exists() else {}
(cmd / "terraform-mapping-embed.json").write_text(json.dumps(data, separators=(",", ":")))
PY
  # The provider's go.mod points its sdk/v4 dependency at a sibling folder of the repository: use the
  # published module of the version it requires instead.
  (cd "$tree" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4)
  (cd "$tree" && go build -trimpath -ldflags "-s -w -X $mod/pkg/version.Version=$KUBERNETES_PROVIDER_STAMP" \
     -o "$1/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
}

if [ ! -x "$cached_bin/pulumi-resource-kubernetes" ]; then
  staging="$cache_root/toolchain/$key.partial/bin"
  rm -rf "$(dirname "$staging")"; mkdir -p "$staging"
  log "building Pulumi CLI $PULUMI_VERSION (cold: ~10 min)"; build_cli "$staging"
  log "building Python language host from sdk $LANGUAGE_HOST_SDK_VERSION"; build_language_host "$staging"
  log "building Kubernetes provider $KUBERNETES_PROVIDER_STAMP (cold: ~10 min)"; build_kubernetes "$staging"
  rm -rf "$(dirname "$cached_bin")"; mv "$(dirname "$staging")" "$(dirname "$cached_bin")"
fi
mkdir -p "$bin"
for f in "$cached_bin"/*; do
  [ "$(basename "$f")" = pulumi-resource-kubernetes ] || ln -sf "$f" "$bin/$(basename "$f")"
done
# Providers go where the engine's plugin cache looks (scripts/env.sh links this into PULUMI_HOME), named
# for the version the Python SDK asks for, so the engine uses it without "ambient plugin" warnings.
plugins="$here/.toolchain/plugins"
rm -rf "$plugins"; mkdir -p "$plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_STAMP"
ln -sf "$cached_bin/pulumi-resource-kubernetes" "$plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_STAMP/"
log "ready: $bin ($("$bin/pulumi" version))"
