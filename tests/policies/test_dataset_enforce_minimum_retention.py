"""dataset-enforce-minimum-retention: the estate passes; a copy keeping less history than its tier is named."""

from __future__ import annotations

from policies.rules import dataset_enforce_minimum_retention as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_offsite_restic_copy_keeping_a_week():
    estate = f.Estate()
    estate.vw_b2.props["spec"]["restic"]["retain"] = {"daily": 7.0, "monthly": 12.0}
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset vaultwarden (tier 1): copy b2 (restic) keeps daily history for 7 days; tier 1 offsite copies keep at "
        "least 14 daily points (14 days): raise spec.restic.retain.daily to 14."]


def test_local_copy_without_monthly_points():
    estate = f.Estate()
    estate.vw_nas.props["spec"]["restic"]["retain"] = {"hourly": 48.0, "daily": 30.0}
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset vaultwarden (tier 1): copy nas (restic) keeps monthly history for 30 days; tier 1 local copies keep "
        "at least 3 monthly points (90 days): raise spec.restic.retain.monthly to 3."]


def test_pgbackrest_full_retention_too_short():
    estate = f.Estate()
    estate.stanza.props["spec"]["stanzaConfiguration"]["s3Repositories"][0]["retentionPolicy"]["full"] = 4.0
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset immich-db (tier 1): copy b2 (pgbackrest) keeps monthly history for 28 days; tier 1 offsite copies "
        "keep at least 6 monthly points (180 days): raise retentionPolicy.full so the oldest full backup is at least "
        "180 days old."]


def test_truenas_snapshots_kept_too_briefly():
    estate = f.Estate()
    estate.snapshots[1].props["lifetime_value"] = 7.0
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset photos (tier 1): its local snapshots keep daily history for 7 days; tier 1 local copies keep at "
        "least 14 daily points (14 days): keep the daily snapshot task's snapshots for at least 14 days."]


def test_finer_levels_cover_coarser_requirements():
    estate = f.Estate()
    estate.vw_b2.props["spec"]["restic"]["retain"] = {"within": "1y"}
    assert f.run_stack(POLICY, estate.nodes).messages == []
