"""One mistake per rule family, each applied to the compliant estate: what the pack must refuse through the engine.

Each scenario names the policy that must report a mandatory violation and fragments its message must contain: the
dataset (or the bucket or key, for rules about those) and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from policies.rules.support import kinds
from tests.policies import fixtures as f


@dataclass(frozen=True)
class Scenario:
    """A single change to the compliant estate and what the pack must say about it."""

    name: str
    change: Callable[[f.Estate], None]
    policy: str
    expect: tuple[str, ...]


def tier1_without_offsite(estate: f.Estate) -> None:
    """The PVC's object-storage copies are dropped: only the NAS copy is left."""
    estate.remove(estate.vw_b2, estate.vw_r2)


def tier3_going_offsite(estate: f.Estate) -> None:
    """Media (re-downloadable) gets a cloud sync task to B2, without an override reason."""
    estate.add(kinds.CLOUD_SYNC_TASK, "media-b2", f.cloud_sync_task("hlb-b2-tier1", "5") | {
        "description": "media -> hlb-b2-tier1", "path": "/mnt/storage0/media"}, estate.media)


def public_bucket(estate: f.Estate) -> None:
    """An AWS bucket whose public-access block leaves bucket policies open."""
    component = estate.add("homelab-backups:buckets:AwsBucket", "hlb-s3-tier1", {})
    estate.add(kinds.AWS_BUCKET, "hlb-s3-tier1-bucket", f.aws_bucket(), component)
    estate.add(kinds.AWS_PUBLIC_ACCESS_BLOCK, "hlb-s3-tier1-public-access",
               f.aws_public_access_block() | {"blockPublicPolicy": False}, component)
    estate.add(kinds.AWS_LIFECYCLE[0], "hlb-s3-tier1-lifecycle", f.aws_lifecycle(), component)
    estate.add(kinds.AWS_LOCK[0], "hlb-s3-tier1-lock", f.aws_lock(), component)


def lock_longer_than_retention(estate: f.Estate) -> None:
    """B2's lock is raised to 45 days, beyond what restic and pgBackRest keep."""
    estate.b2_bucket.props["lock_days"] = 45.0
    estate.b2_bucket.props["lifecycle"]["noncurrent_days"] = 46.0


def rpo_violated(estate: f.Estate) -> None:
    """The PVC's most frequent copy (NAS, every 6 h) becomes daily."""
    estate.vw_nas.props["spec"]["trigger"]["schedule"] = "10 0 * * *"


def unscoped_key(estate: f.Estate) -> None:
    """A B2 writer key without bucket restriction."""
    props = f.b2_key()
    del props["bucket_id"]
    estate.add(kinds.B2_KEY, "hlb-b2-tier1-vaultwarden-restic-key", props, estate.b2_component)


def management_capabilities(estate: f.Estate) -> None:
    """An IAM writer policy with s3:* on its bucket."""
    document = f.writer_policy()
    document["Statement"][2]["Action"] = "s3:*"
    estate.add(kinds.AWS_USER_POLICY, "hlb-s3-tier1-vaultwarden-restic-policy",
               {"user": "hlb-s3-tier1-vaultwarden-restic", "policy": json.dumps(document)})


def ceph_filesystem_pvc(estate: f.Estate) -> None:
    """The PVC behind the ReplicationSource lives on CephFS."""
    estate.vw_b2.props["metadata"]["labels"]["backup.homelab/storage-class"] = "ceph-filesystem"


def five_field_cnpg_cron(estate: f.Estate) -> None:
    """A ScheduledBackup copied with VolSync's 5-field cron."""
    estate.pg_b2_diff.props["spec"]["schedule"] = "45 2,14 * * *"


def unencrypted_cloud_sync(estate: f.Estate) -> None:
    """The photos task to B2 pushes without client-side encryption."""
    estate.sync_b2.props["encryption"] = False


def over_budget(estate: f.Estate) -> None:
    """Photos grows to 3 TB at B2 and R2 prices."""
    estate.photos.props["size_gb"] = 3000.0


def plaintext_secret(estate: f.Estate) -> None:
    """A repository Secret applied with its password in plain text."""
    props = f.k8s_secret()
    props["stringData"]["RESTIC_PASSWORD"] = "correct horse"
    estate.add(kinds.SECRET, "vaultwarden-b2-repository", props, estate.vw_b2.parent)


def rendered_secret(estate: f.Estate) -> None:
    """A repository Secret (values secret) declared through a provider that renders manifests for git."""
    render = estate.add("pulumi:providers:kubernetes", "render-security",
                        {"renderYamlToDirectory": "rendered/security"})
    estate.add(kinds.SECRET, "vaultwarden-b2-repository", f.k8s_secret(), estate.vw_b2.parent, provider=render)


def missing_lifecycle(estate: f.Estate) -> None:
    """The B2 bucket loses its lifecycle."""
    estate.b2_bucket.props["lifecycle"] = None


def unlabelled_bucket(estate: f.Estate) -> None:
    """The R2 bucket's component stops registering the bucket's labels."""
    estate.r2_component.props = {"bucket": "hlb-r2-tier1"}


def unsafe_lifecycle(estate: f.Estate) -> None:
    """R2's lifecycle also deletes objects after 30 days."""
    estate.r2_lifecycle.props["rules"][0]["deleteObjectsTransition"] = {
        "condition": {"type": "Age", "maxAge": 30 * 86400.0}}


def unlocked_tier1_bucket(estate: f.Estate) -> None:
    """B2's lock is switched off."""
    estate.b2_bucket.props["lock_days"] = 0.0


def r2_bucket_lock(estate: f.Estate) -> None:
    """R2 gets the lock rule the program declared before the R2 lock drill showed the tools fail under it."""
    estate.add(kinds.R2_LOCK, "hlb-r2-tier1-lock", f.r2_lock(), estate.r2_component)


def tier1_locked_copy_only_on_r2(estate: f.Estate) -> None:
    """The PVC's B2 copy is dropped: its only offsite copy is on R2, which cannot be locked."""
    estate.remove(estate.vw_b2)


def short_retention(estate: f.Estate) -> None:
    """The offsite restic copy keeps a week."""
    estate.vw_b2.props["spec"]["restic"]["retain"] = {"daily": 7.0, "monthly": 12.0}


def missing_alerts(estate: f.Estate) -> None:
    """The photos tasks stop pinging Healthchecks."""
    for task in (estate.sync_b2, estate.sync_r2):
        task.props["post_script"] = ""


def missing_drill(estate: f.Estate) -> None:
    """The database's restore drill is dropped."""
    estate.remove(estate.pg_drill)


def missing_tier(estate: f.Estate) -> None:
    """A dataset declared without tier."""
    del estate.media.props["tier"]


def missing_copy_method(estate: f.Estate) -> None:
    """A ReplicationSource without copyMethod."""
    del estate.vw_r2.props["spec"]["restic"]["copyMethod"]


def unencrypted_pgbackrest(estate: f.Estate) -> None:
    """A pgBackRest repository without cipher."""
    del estate.stanza.props["spec"]["stanzaConfiguration"]["s3Repositories"][1]["cipherConfig"]


def plaintext_provider_credentials(estate: f.Estate) -> None:
    """The B2 bucket's admin key passed as plain text."""
    estate.b2_bucket.props["auth"] = {"key_id": "0051a2b3c4", "key": "K005-admin"}


def kopiur_without_schedule(estate: f.Estate) -> None:
    """A Kopiur dataset whose SnapshotPolicy no SnapshotSchedule runs."""
    estate.remove(estate.add_kopiur()["schedule"])


def kopiur_replication_slower_than_offsite_rpo(estate: f.Estate) -> None:
    """A Kopiur dataset replicated to R2 weekly, where tier 1 allows offsite copies a day old."""
    estate.add_kopiur()["r2"].props = f.kopiur_replication("r2", "55 3 * * 0")


def kopiur_retention_below_tier(estate: f.Estate) -> None:
    """A Kopiur SnapshotPolicy keeping a week of daily points (tier 1: two weeks), which its replicas mirror."""
    estate.add_kopiur()["policy"].props = f.kopiur_policy({
        "keepLatest": 1, "keepHourly": 4, "keepDaily": 7, "keepWeekly": 0, "keepMonthly": 12, "keepAnnual": 0})


def kopiur_maintenance_outlives_lock(estate: f.Estate) -> None:
    """Kopiur full maintenance of a repository in the locked B2 bucket runs monthly, past the 14-day lock."""
    estate.add_kopiur()["maintenance"].props = f.kopiur_maintenance("b2", "35 4 1 * *")
def _guests(estate: f.Estate, job: dict) -> None:
    """A guest group's component with one PVE backup job (the program's shape: components/proxmox.py)."""
    group = estate.add("homelab-backups:proxmox:ProtectedGuests", "lab", {})
    estate.add(kinds.PVE_BACKUP_JOB, "lab-nas-vzdump-backup", {
        "job_id": "hlb-lab-nas-vzdump", "schedule": "sat 02:55", "storage": "truenas-backups", "all": True,
        "exclude": "100,110", "prune_backups": "keep-daily=7", "enabled": True, "tier": 3.0,
        "connection": {"url": "https://pve1.lan:8006", "token_id": "backup@pve!homelab-backups"},
        "credentials_entry": "proxmox"} | job, group)


def untiered_all_guests(estate: f.Estate) -> None:
    """A PVE backup job selecting every guest without the tier of what it covers."""
    _guests(estate, {"tier": None})


def pve_job_rpo_violated(estate: f.Estate) -> None:
    """Tier 1 guests backed up weekly."""
    _guests(estate, {"tier": 1.0, "all": False, "exclude": None, "vmid": "100,110",
                     "prune_backups": "keep-hourly=48,keep-daily=30,keep-monthly=6"})


def offsite_sync_removes_vanished(estate: f.Estate) -> None:
    """The PBS sync job filling the offsite datastore propagates deletions."""
    server = estate.add("homelab-backups:proxmox:ProxmoxBackupServer", "pbs", {})
    estate.add(kinds.PBS_SYNC_JOB, "pbs-pbs-offsite-sync", {
        "job_id": "hlb-pbs-offsite", "store": "offsite-s3", "remote_store": "tank", "schedule": "11:15",
        "remove_vanished": True, "connection": {"url": "https://pbs.lan:8007", "token_id": "backup@pbs!hlb"},
        "credentials_entry": "pbs"}, server)


def tier1_guests_without_drill(estate: f.Estate) -> None:
    """Tier 1 guests backed up twice a day, with no guest restore drill scheduled (no proxmox.drill)."""
    _guests(estate, {"tier": 1.0, "all": False, "exclude": None, "vmid": "100,110", "schedule": "09,21:00",
                     "prune_backups": "keep-hourly=48,keep-daily=30,keep-monthly=6"})


def sync_token_too_broad(estate: f.Estate) -> None:
    """The sync token on the remote PBS may prune and delete the offsite copy."""
    offsite = estate.add("homelab-backups:proxmox:PbsOffsite", "pbs-offsite", {})
    estate.add(kinds.PBS_SYNC_TOKEN, "pbs-offsite-hetzner-token", {
        "user": "hlb-sync@pbs", "token_name": "push", "datastores": ["homelab"], "role": "DatastoreAdmin",
        "connection": {"url": "https://pbs.offsite.example:8007", "token_id": "admin@pbs!hlb"},
        "credentials_entry": "pbs-remote-hetzner"}, offsite)


SCENARIOS = (
    Scenario("tier1-without-offsite", tier1_without_offsite, "dataset-enforce-offsite-copy",
             ("dataset vaultwarden (tier 1) has 0 offsite copies", "add an offsite destination")),
    Scenario("tier3-going-offsite", tier3_going_offsite, "dataset-disallow-offsite-copy",
             ("dataset media (tier 3) sends 1 offsite copies (b2)", "or set its offsite_override_reason")),
    Scenario("public-bucket", public_bucket, "bucket-disallow-public-access",
             ("bucket 'hlb-s3-tier1'", "leaves blockPublicPolicy=false", "restrict_public_buckets to True")),
    Scenario("lock-longer-than-retention", lock_longer_than_retention, "retention-enforce-cross-layer-consistency",
             ("dataset vaultwarden: copy b2 (restic) starts releasing points after 30 days",
              "keep the lock below 30 days")),
    Scenario("rpo-violated", rpo_violated, "dataset-enforce-rpo",
             ("dataset vaultwarden (tier 1): its most frequent recovery point comes every 24 h",
              "schedule it at least every 12 h")),
    Scenario("unscoped-key", unscoped_key, "credential-enforce-single-bucket-scope",
             ("B2 application key 'hlb-b2-tier1-vaultwarden-restic' has no bucket restriction", "pass bucket_id")),
    Scenario("management-capabilities", management_capabilities, "credential-disallow-management-capabilities",
             ("IAM policy hlb-s3-tier1-vaultwarden-restic-policy", "allows wildcard actions s3:*",
              "list the object actions")),
    Scenario("ceph-filesystem-pvc", ceph_filesystem_pvc, "volsync-disallow-ceph-filesystem",
             ("(dataset vaultwarden, tier 1) backs up a claim on storage class 'ceph-filesystem'",
              "move the claim to a block class")),
    Scenario("five-field-cnpg-cron", five_field_cnpg_cron, "cnpg-backup-enforce-six-field-cron",
             ("(dataset immich-db, tier 1) schedule '45 2,14 * * *' has 5 fields", "write '0 45 2,14 * * *'")),
    Scenario("unencrypted-cloud-sync", unencrypted_cloud_sync, "truenas-enable-cloudsync-encryption",
             ("cloud sync task 'photos -> hlb-b2-tier1'", "set encryption=True")),
    Scenario("over-budget", over_budget, "cost-enforce-monthly-budget",
             ("largest: dataset photos 63.00", "above the budget of 30.00 USD/month",
              "move large datasets to a cheaper destination")),
    Scenario("plaintext-secret", plaintext_secret, "secret-disallow-plaintext-values",
             ("(dataset vaultwarden, tier 1) holds stringData.RESTIC_PASSWORD in plain text",
              "pulumi.Output.secret(...)")),
    Scenario("rendered-secret", rendered_secret, "secret-disallow-plaintext-values",
             ("(dataset vaultwarden, tier 1) is rendered into 'rendered/security'", "deliver it as an ExternalSecret")),
    Scenario("plaintext-provider-credentials", plaintext_provider_credentials, "secret-disallow-plaintext-values",
             ("Bucket 'hlb-b2-tier1-bucket' takes auth.key in plain text", "pulumi.Output.secret(...)")),
    Scenario("missing-lifecycle", missing_lifecycle, "bucket-missing-lifecycle",
             ("bucket hlb-b2-tier1 (tier 1) has no lifecycle", "set lifecycle {noncurrent_days")),
    Scenario("unlabelled-bucket", unlabelled_bucket, "bucket-missing-labels",
             ("bucket hlb-r2-tier1 carries no backup.homelab/tier", "`labels` output")),
    Scenario("unsafe-lifecycle", unsafe_lifecycle, "bucket-configure-safe-lifecycle",
             ("(bucket 'hlb-r2-tier1') rule 'abort-incomplete-multipart' expires current objects after 30 days",
              "remove delete_objects_transition")),
    Scenario("unlocked-tier1-bucket", unlocked_tier1_bucket, "bucket-enforce-object-lock",
             ("bucket hlb-b2-tier1 (tier 1, offsite) has no object lock", "set lock_days")),
    Scenario("r2-bucket-lock", r2_bucket_lock, "bucket-enforce-object-lock",
             ("bucket hlb-r2-tier1 has an R2 bucket lock rule", "remove the R2BucketLock")),
    Scenario("tier1-locked-copy-only-on-r2", tier1_locked_copy_only_on_r2, "dataset-enforce-offsite-copy",
             ("dataset vaultwarden (tier 1) has no offsite copy in a locked bucket", "add a b2 or s3 destination")),
    Scenario("short-retention", short_retention, "dataset-enforce-minimum-retention",
             ("dataset vaultwarden (tier 1): copy b2 (restic) keeps daily history for 7 days",
              "raise spec.restic.retain.daily to 14")),
    Scenario("missing-alerts", missing_alerts, "dataset-missing-alerting",
             ("dataset photos (tier 1) raises no out-of-sync, missed-run, never-ran alert",
              "ping Healthchecks from its tasks")),
    Scenario("missing-drill", missing_drill, "dataset-missing-restore-drill",
             ("dataset immich-db (tier 1) has no scheduled restore drill", "schedule a scratch restore")),
    Scenario("missing-tier", missing_tier, "dataset-missing-tier",
             ("dataset media declares no tier", "set datasets[media].tier")),
    Scenario("missing-copy-method", missing_copy_method, "volsync-missing-copy-method",
             ("ReplicationSource security/vaultwarden-r2 (dataset vaultwarden, tier 1) sets no spec.restic.copyMethod",
              "set it to Snapshot")),
    Scenario("unencrypted-pgbackrest", unencrypted_pgbackrest, "pgbackrest-enable-repository-encryption",
             ("(dataset immich-db, tier 1) s3Repositories[1] (bucket 'hlb-r2-tier1') has no cipherConfig",
              "set cipherConfig.type: aes-256-cbc")),
    Scenario("kopiur-without-schedule", kopiur_without_schedule, "kopiur-missing-schedule",
             ("SnapshotPolicy documents/paperless-nas (dataset paperless, tier 1) is run by no SnapshotSchedule",
              "add a SnapshotSchedule with spec.policyRef.name 'paperless-nas'")),
    Scenario("kopiur-replication-slower-than-offsite-rpo", kopiur_replication_slower_than_offsite_rpo,
             "kopiur-enforce-replication-rpo",
             ("dataset paperless (tier 1): RepositoryReplication paperless-r2", "every 7 d",
              "replicate at least every 24 h")),
    Scenario("kopiur-retention-below-tier", kopiur_retention_below_tier, "dataset-enforce-minimum-retention",
             ("dataset paperless (tier 1): copy r2 (kopiur) keeps daily history for 7 days",
              "raise the SnapshotPolicy's spec.retention for daily points to 14")),
    Scenario("kopiur-maintenance-outlives-lock", kopiur_maintenance_outlives_lock,
             "retention-enforce-cross-layer-consistency",
             ("Maintenance paperless-nas-maintenance for bucket hlb-b2-tier1 runs every 31 days",
              "full maintenance must run at least every 13 days")),
    Scenario("untiered-all-guests", untiered_all_guests, "pve-backup-job-missing-tier",
             ("PVE backup job 'hlb-lab-nas-vzdump' selects all guests except 100,110 with no tier",
              "set it on the guest group")),
    Scenario("pve-job-rpo-violated", pve_job_rpo_violated, "pve-backup-job-enforce-rpo",
             ("runs 'sat 02:55', up to 168 h apart, above tier 1's RPO of 12 h", "at least every 12 h")),
    Scenario("offsite-sync-removes-vanished", offsite_sync_removes_vanished, "pbs-sync-job-disallow-remove-vanished",
             ("PBS sync job 'hlb-pbs-offsite' into 'offsite-s3'", "set remove_vanished: false")),
    Scenario("tier1-guests-without-drill", tier1_guests_without_drill, "pve-guests-missing-restore-drill",
             ("guest group 'lab' (tier 1) has no scheduled restore drill", "add proxmox.drill")),
    Scenario("sync-token-too-broad", sync_token_too_broad, "pbs-sync-token-enforce-least-privilege",
             ("PBS sync token 'hlb-sync@pbs!push' holds role 'DatastoreAdmin'", "use DatastoreBackup or "
              "DatastoreReader")),
)
