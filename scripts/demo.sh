#!/usr/bin/env bash
# The main job on the local stack: start the loopback S3 server, `pulumi up` (twice: the second must be a
# no-op), and say where the rendered manifests and the runbook outputs are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/bootstrap.sh
source scripts/env.sh
# Demo-only passphrase: it protects generated repository passwords of a throwaway local stack.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-local-demo}"
# The loopback server accepts any key; these only exist so the program's credential lookup is exercised.
export HLB_LOCAL_S3_ACCESS_KEY_ID="${HLB_LOCAL_S3_ACCESS_KEY_ID:-local-demo-key}"
export HLB_LOCAL_S3_SECRET_ACCESS_KEY="${HLB_LOCAL_S3_SECRET_ACCESS_KEY:-local-demo-secret}"
# The loopback server has no admin API the program drives, so each writer brings its own key and a read-only
# one, as a user would for Storj or Garage (README, "Keys per writer"); they must differ from the admin key.
for role in WRITER READER; do
  for field in ACCESS_KEY_ID SECRET_ACCESS_KEY; do
    var="HLB_LOCAL_S3_${role}_VAULTWARDEN_RESTIC_${field}"
    export "$var=${!var:-local-demo-${role,,}-vaultwarden-${field,,}}"
  done
done
bash scripts/s3-server.sh start
pulumi stack select local --create >/dev/null
# The loopback server keeps buckets in memory, so a restarted server must be reconciled first. Rendered
# Kubernetes objects have no cluster to be read back from: they are left out of the refresh.
pulumi refresh --stack local --yes --skip-preview --exclude '**kubernetes**' >/dev/null 2>&1 || true
pulumi up --stack local --yes --skip-preview
echo "--- second run (expect no changes) ---"
pulumi up --stack local --yes --expect-no-changes --skip-preview >/dev/null && echo "no changes"
pulumi stack output --stack local --json > .run/local-outputs.json
cat <<MSG

Done. The loopback S3 server keeps running (stop it with: bash scripts/s3-server.sh stop).
  Rendered Kubernetes manifests: $root/rendered/
  Runbook outputs (no secrets):  $root/.run/local-outputs.json  (or: source scripts/env.sh; pulumi stack output --json)
  Tear down:                     source scripts/env.sh; pulumi destroy --stack local   (protected buckets stay; see README)
MSG
