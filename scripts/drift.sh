#!/usr/bin/env bash
# Drift check for a stack: read every resource back from its service and compare, then compare the program with the
# state. Exits non-zero when anything differs; changes nothing (the refresh is a preview, the state is not written),
# so read-only credentials are enough. Run nightly by .github/workflows/drift.yml; by hand:
#
#   source scripts/env.sh; bash scripts/drift.sh prod          (needs the stack's read-only keys in the environment)
#
# In render mode the Kubernetes objects live in Git, not in a cluster Pulumi can read: they are left out of the
# refresh (README "Refreshing in render mode") and still compared with the program by the preview.
set -euo pipefail
stack=${1:?usage: drift.sh STACK}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
refresh_args=()
mode=$(sed -n '/homelab-backups:kubernetes:/,/^  [^ ]/s/^ *mode: *\([a-z]*\).*/\1/p' "Pulumi.$stack.yaml" | head -1)
if [ "${mode:-render}" = render ]; then refresh_args+=(--exclude '**kubernetes**'); fi
status=0
echo "--- refresh (preview only): does every resource still look as the state says? ---"
pulumi refresh --stack "$stack" --preview-only --expect-no-changes --non-interactive --diff "${refresh_args[@]}" \
  || { echo "::error::drift: resources of stack $stack differ from its state (see the refresh diff above)"; status=1; }
echo "--- preview: does the program still match the state? ---"
pulumi preview --stack "$stack" --expect-no-changes --non-interactive --diff \
  || { echo "::error::drift: the program and stack $stack's state differ (an unapplied change on main?)"; status=1; }
exit "$status"
