"""retention-enforce-cross-layer-consistency: the estate passes; locks outliving retention, noncurrent expiry
before the lock (split resources) and kopia maintenance outside the lock are named."""

from __future__ import annotations

from policies.rules import retention_enforce_cross_layer_consistency as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_lock_longer_than_restic_retention():
    estate = f.Estate()
    estate.b2_bucket.props["lock_days"] = 45.0
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset immich-db: copy b2 (pgbackrest) starts releasing points after 15 days, but bucket hlb-b2-tier1 locks "
        "objects for 45 days, so pruning fails until the lock expires; keep the lock below 15 days (lock_days) or "
        "raise retentionPolicy.diff so differential backups outlive the lock.",
        "dataset vaultwarden: copy b2 (restic) starts releasing points after 30 days, but bucket hlb-b2-tier1 locks "
        "objects for 45 days, so pruning fails until the lock expires; keep the lock below 30 days (lock_days) or "
        "keep the finest retain level (the one covering every backup) longer."]
    assert outcome.urns == [estate.stanza.urn, estate.vw_b2.urn]


def test_pgbackrest_differentials_expiring_inside_the_lock():
    estate = f.Estate()
    estate.stanza.props["spec"]["stanzaConfiguration"]["s3Repositories"][0]["retentionPolicy"]["diff"] = 7.0
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset immich-db: copy b2 (pgbackrest) starts releasing points after 3.5 days, but bucket hlb-b2-tier1 locks "
        "objects for 14 days, so pruning fails until the lock expires; keep the lock below 3.5 days (lock_days) or "
        "raise retentionPolicy.diff so differential backups outlive the lock."]


def test_hourly_backups_with_daily_levels_release_at_once():
    estate = f.Estate()
    estate.vw_b2.props["spec"]["trigger"]["schedule"] = "15 * * * *"
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("dataset vaultwarden: copy b2 (restic) starts releasing points after 0 days,")


def test_aws_noncurrent_expiry_before_the_lock():
    estate = f.Estate()
    component = estate.add("homelab-backups:buckets:AwsBucket", "hlb-s3-tier1", {})
    estate.add(kinds.AWS_BUCKET, "hlb-s3-tier1-bucket", f.aws_bucket(), component)
    lifecycle = f.aws_lifecycle()
    lifecycle["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"] = 3.0
    node = estate.add(kinds.AWS_LIFECYCLE[0], "hlb-s3-tier1-lifecycle", lifecycle | {"bucket": "hlb-s3-tier1-id"},
                      component)
    estate.add(kinds.AWS_LOCK[0], "hlb-s3-tier1-lock", f.aws_lock() | {"bucket": "hlb-s3-tier1-id"}, component)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-s3-tier1 expires noncurrent versions after 3 days (rule 'expire-noncurrent-and-abort-uploads') but "
        "locks them for 14 days; expiry must be at least the lock: set noncurrent_days to 15."]
    assert outcome.urns == [node.urn]


def test_kopia_maintenance_less_often_than_the_lock_allows():
    estate = f.Estate()
    node = estate.add(kinds.KOPIA_MAINTENANCE, "grafana-b2", f.kopia_maintenance("b2", "40 3 1 * *"), estate.grafana)
    node.props["metadata"]["labels"]["backup.homelab/tier"] = "1"
    estate.grafana.props["tier"] = 1.0
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "KopiaMaintenance grafana-b2 for bucket hlb-b2-tier1 runs every 31 days ('40 3 1 * *') but the lock is 14 "
        "days; full maintenance must run at least every 13 days (lock - 1): schedule it more often."]


def test_no_lock_anywhere_is_not_applicable():
    estate = f.Estate()
    estate.b2_bucket.props["lock_days"] = 0.0
    assert f.run_stack(POLICY, estate.nodes).not_applicable == (
        "no bucket in the stack is locked; the layers cannot contradict a lock")


# --- Kopiur (issue 15) ------------------------------------------------------------------------------------------


def test_kopiur_maintenance_within_the_lock_passes():
    estate = f.Estate()
    nodes = estate.add_kopiur()
    nodes["maintenance"].props = f.kopiur_maintenance("b2", "35 4 * * *")
    assert [m for m in f.run_stack(rule.POLICY, estate.nodes).messages if "paperless" in m] == []


def test_kopiur_monthly_full_maintenance_under_a_lock_is_named():
    estate = f.Estate()
    nodes = estate.add_kopiur()
    nodes["maintenance"].props = f.kopiur_maintenance("b2", "35 4 1 * *")
    assert [m for m in f.run_stack(rule.POLICY, estate.nodes).messages if "paperless" in m] == [
        "Maintenance paperless-nas-maintenance for bucket hlb-b2-tier1 runs every 31 days ('35 4 1 * *') but the "
        "lock is 14 days; full maintenance must run at least every 13 days (lock - 1): schedule it more often."]


def test_a_replica_released_inside_the_lock_is_named():
    estate = f.Estate()
    nodes = estate.add_kopiur()
    nodes["schedule"].props = f.kopiur_schedule("5 * * * *")
    messages = [m for m in f.run_stack(rule.POLICY, estate.nodes).messages if "paperless" in m]
    assert messages == [
        "dataset paperless: copy b2 (kopiur) starts releasing points after 2 days, but bucket hlb-b2-tier1 locks "
        "objects for 14 days, so pruning fails until the lock expires; keep the lock below 2 days (lock_days) or "
        "keep the finest retain level (the one covering every backup) longer."]
