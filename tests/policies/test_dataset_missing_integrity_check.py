"""dataset-missing-integrity-check (advisory): the estate passes; missing or rare checks are named."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from policies.rules import dataset_missing_integrity_check as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_advisory_until_the_program_schedules_checks():
    assert POLICY.enforcement_level == EnforcementLevel.ADVISORY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier2_pvc_without_check():
    estate = f.Estate()
    estate.remove(estate.grafana_check)
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset grafana (tier 2) has no scheduled integrity check; tier 2 needs one at least every 31 days: schedule "
        "a repository check (or label the object that does it backup.homelab/verification=check)."]


def test_monthly_check_is_too_rare_for_tier1():
    estate = f.Estate()
    estate.vw_check.props["spec"]["schedule"] = "0 5 1 * *"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset vaultwarden (tier 1): its integrity check runs every 31 days (CronJob vaultwarden-check, "
        "'0 5 1 * *'); tier 1 needs one at least every 7 days: schedule it more often."]


def test_an_export_inherits_its_nas_datasets_checks():
    estate = f.Estate()
    estate.remove(estate.photos_check)
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert [m.split(" has ")[0] for m in messages] == ["dataset db-dump (tier 2)", "dataset photos (tier 1)"]
