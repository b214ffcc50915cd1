"""dataset-missing-restore-drill: the estate passes; Tier 1 datasets without a timely drill are named."""

from __future__ import annotations

from policies.rules import dataset_missing_restore_drill as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier1_database_without_drill():
    estate = f.Estate()
    estate.remove(estate.pg_drill)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset immich-db (tier 1) has no scheduled restore drill; tier 1 needs one at least every 31 days: schedule "
        "a scratch restore of the latest backup (or label the object that does it backup.homelab/verification=drill)."]
    assert outcome.urns == [estate.immich_db.urn]


def test_quarterly_drill_is_too_rare():
    estate = f.Estate()
    estate.vw_drill.props["spec"]["trigger"]["schedule"] = "50 4 12 */3 *"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset vaultwarden (tier 1): its restore drill runs every 92 days (ReplicationDestination vaultwarden-drill, "
        "'50 4 12 */3 *'); tier 1 needs one at least every 31 days: schedule it more often."]


def test_manual_restore_is_not_a_drill():
    estate = f.Estate()
    estate.vw_drill.props = f.replication_destination()
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("dataset vaultwarden (tier 1) has no scheduled restore drill;")


def test_nas_config_and_db_exports_inherit_their_targets_drills():
    estate = f.Estate()
    estate.add_nas_config()
    estate.add_db_export()
    assert f.run_stack(POLICY, estate.nodes).messages == []
    estate.remove(estate.photos_drill)
    assert [m.split(" has no")[0] for m in f.run_stack(POLICY, estate.nodes).messages] == [
        "dataset nas-config (tier 1)", "dataset photos (tier 1)", "dataset shop-db (tier 1)"]
