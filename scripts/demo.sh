#!/usr/bin/env bash
# The main job on the local stack: start the loopback S3 server, `pulumi up` (twice: the second must be a
# no-op), and say where the rendered manifests and the runbook outputs are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/bootstrap.sh
# The local stack's environment (demo passphrase, loopback keys); the follow-up commands below source it too.
source scripts/local-env.sh
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
  Runbook outputs (no secrets):  $root/.run/local-outputs.json
  Read them again:               source scripts/local-env.sh; pulumi stack output --stack local --json
  Tear down:                     source scripts/local-env.sh; pulumi destroy --stack local   (protected buckets stay; see README)
MSG
