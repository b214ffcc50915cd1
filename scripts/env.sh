# Sourced by the project's scripts: the engine built here, on a file backend inside the checkout.
# Nothing here talks to the network; every path is local to this clone (and the shared build cache).
hlb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$hlb_root/.toolchain/bin:$PATH"
export PULUMI_HOME="${PULUMI_HOME:-$hlb_root/.pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$hlb_root/.pulumi-state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_PYTHON_CMD="$hlb_root/scripts/pulumi-python"
mkdir -p "$hlb_root/.pulumi-state" "$PULUMI_HOME/plugins"
# The CLI (v3.260) writes each command's verbose engine log to $PULUMI_HOME/logs (about 1 MB per preview), a third of
# its CPU (0.4 s of 1.0 s per preview of the local stack), and has no switch for it. HLB_PULUMI_DISK_LOGS=0 (the test
# suites, tests/conftest.py) puts a file where that directory would go: the CLI then finds automatic logging
# unavailable and runs without it. An existing logs directory is left alone.
if [ "${HLB_PULUMI_DISK_LOGS:-1}" = 0 ] && [ ! -e "$PULUMI_HOME/logs" ]; then : > "$PULUMI_HOME/logs"; fi
for plugin in "$hlb_root"/.toolchain/plugins/*; do
  [ -d "$plugin" ] || continue
  # A real directory: the engine's plugin scan skips symlinked ones.
  rm -rf "$PULUMI_HOME/plugins/$(basename "$plugin")"; mkdir -p "$PULUMI_HOME/plugins/$(basename "$plugin")"
  for f in "$plugin"/*; do ln -sf "$(readlink -f "$f")" "$PULUMI_HOME/plugins/$(basename "$plugin")/"; done
done
