"""schedule-enforce-staggered-starts (advisory): the estate's lanes are staggered; collisions are named."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from policies.rules import schedule_enforce_staggered_starts as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_advisory_by_default():
    assert POLICY.enforcement_level == EnforcementLevel.ADVISORY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_two_backups_on_one_destination_in_one_slot():
    estate = f.Estate()
    estate.vw_b2.props["spec"]["trigger"]["schedule"] = "47 2 * * *"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "ReplicationSource vaultwarden-b2 (vaultwarden, '47 2 * * *') starts in the same 5-minute slot as "
        "ScheduledBackup immich-db-b2-diff (immich-db, '0 45 2,14 * * *') on b2, first at Sun 02:47; move one to a "
        "free slot."]
    assert outcome.urns == [estate.vw_b2.urn]


def test_cloud_sync_and_snapshot_dialects_are_compared_too():
    estate = f.Estate()
    estate.media_snapshot.props["schedule"] = {"minute": "2", "hour": "*", "dom": "*", "month": "*", "dow": "*"}
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert "on nas-snapshots, first at Sun 00:00;" in message


def test_slot_width_comes_from_config():
    estate = f.Estate()
    estate.vw_b2.props["spec"]["trigger"]["schedule"] = "40 2 * * *"
    assert f.run_stack(POLICY, estate.nodes).messages == []
    messages = f.run_stack(POLICY, estate.nodes, config={"slotMinutes": 15}).messages
    assert len(messages) == 1 and "same 15-minute slot" in messages[0]


def test_nas_config_export_and_a_db_export_into_one_dataset_share_its_lane():
    estate = f.Estate()
    estate.add_nas_config()
    estate.add_db_export()
    assert f.run_stack(POLICY, estate.nodes).messages == []
    estate.nas_cron.props["schedule"] = {"minute": "20", "hour": "1,13", "dom": "*", "month": "*", "dow": "*"}
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert len(messages) == 1 and "CronJob nas-config-export" in messages[0] and "on export:photos" in messages[0]
