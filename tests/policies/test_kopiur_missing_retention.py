"""kopiur-missing-retention: a pinned retention passes; absent, empty and partly-defaulted retention are named."""

from __future__ import annotations

from policies.rules import kopiur_missing_retention as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY
TITLE = "SnapshotPolicy documents/paperless-nas (dataset paperless, tier 1)"


def _run(props):
    return f.run_resource(POLICY, kinds.KOPIUR_POLICY, props).messages


def test_pinned_retention_passes():
    assert _run(f.kopiur_policy()) == []


def test_missing_retention_is_named():
    props = f.kopiur_policy()
    del props["spec"]["retention"]
    assert _run(props) == [f"{TITLE} has no spec.retention, so kopia's defaults decide what is kept; pin keepLatest "
                           "and every GFS level to the tier's retention."]


def test_retention_keeping_no_level_is_named():
    assert _run(f.kopiur_policy({"keepLatest": 3})) == [
        f"{TITLE} keeps no hourly, daily, weekly, monthly or annual points; set the tier's levels."]


def test_levels_left_to_kopia_defaults_are_named():
    assert _run(f.kopiur_policy({"keepLatest": 1, "keepDaily": 30})) == [
        f"{TITLE} leaves keepHourly, keepWeekly, keepMonthly, keepAnnual to kopia's defaults, which keep more than "
        "the tier chose; write them out (0 where unused)."]
