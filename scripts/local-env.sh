# Sourced for the local (demo) stack: scripts/env.sh plus the values only this throwaway stack uses.
#
#   source scripts/local-env.sh; pulumi stack output --stack local --json
#
# Not part of scripts/env.sh on purpose: env.sh is sourced for every stack, and a default passphrase there
# would silently encrypt a newly created prod stack with the demo's public one.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
# Demo-only passphrase (committed salt in Pulumi.local.yaml): it protects the generated repository passwords of
# a stack whose S3 server runs on loopback and forgets everything on restart.
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
