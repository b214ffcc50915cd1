"""dataset-enforce-rpo: the estate passes; a dataset whose best schedule is too slow, unreadable or absent is named."""

from __future__ import annotations

from policies.rules import dataset_enforce_rpo as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier1_pvc_backed_up_daily_only():
    estate = f.Estate()
    estate.vw_nas.props["spec"]["trigger"]["schedule"] = "10 0 * * *"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset vaultwarden (tier 1): its most frequent recovery point comes every 24 h (ReplicationSource "
        "vaultwarden-nas, '10 0 * * *'); tier 1 allows at most 12 h: schedule it at least every 12 h."]
    assert outcome.urns == [estate.vw_nas.urn]


def test_uneven_schedule_is_judged_by_its_longest_gap():
    estate = f.Estate()
    estate.vw_nas.props["spec"]["trigger"]["schedule"] = "10 1,5 * * *"
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert "comes every 20 h (ReplicationSource vaultwarden-nas, '10 1,5 * * *')" in message


def test_truenas_snapshots_weekly_only():
    estate = f.Estate()
    estate.remove(*estate.snapshots[:2])
    estate.snapshots[2].props["schedule"] = {"minute": "0", "hour": "0", "dom": "*", "month": "*", "dow": "7"}
    estate.sync_b2.props["schedule"]["dow"] = "1"
    estate.sync_r2.props["schedule"]["dow"] = "1"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset photos (tier 1): its most frequent recovery point comes every 7 d (SnapshotTask photos-monthly, "
        "'0 0 * * 7'); tier 1 allows at most 12 h: schedule it at least every 12 h."]


def test_database_diffs_in_six_field_cron_count():
    estate = f.Estate()
    for backup in (estate.pg_b2_diff, estate.pg_r2_diff):
        backup.props["spec"]["schedule"] = "0 45 2 * * *"
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("dataset immich-db (tier 1): its most frequent recovery point comes every 24 h")


def test_unreadable_schedule_and_no_schedule():
    estate = f.Estate()
    estate.grafana_nas.props["spec"]["trigger"]["schedule"] = "every day"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset grafana (tier 2): ReplicationSource grafana-nas has schedule 'every day', which cannot be read "
        "('every day' has 2 fields; this dialect needs 5); it guarantees no recovery point: fix the expression.",
        "dataset grafana (tier 2) has no scheduled backup, snapshot or dump, so nothing bounds its data loss; tier 2 "
        "allows at most 24 h between recovery points: give it a destination (or fix the schedules of its copies)."]


def test_ceiling_comes_from_config():
    config = {"tiers": {"2": {"maxRpoHours": 6}}}
    messages = f.run_stack(POLICY, f.Estate().nodes, config=config).messages
    assert [m.split(":")[0] for m in messages] == ["dataset db-dump (tier 2)", "dataset grafana (tier 2)"]


def test_nas_config_exported_daily_only_misses_the_tier1_rpo():
    estate = f.Estate()
    estate.add_nas_config()
    assert f.run_stack(POLICY, estate.nodes).messages == []
    estate.nas_cron.props["schedule"]["hour"] = "2"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset nas-config (tier 1): its most frequent recovery point comes every 24 h (CronJob nas-config-export, "
        "'10 2 * * *'); tier 1 allows at most 12 h: schedule it at least every 12 h."]
    assert outcome.urns == [estate.nas_cron.urn]
