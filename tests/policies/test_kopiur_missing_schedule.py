"""kopiur-missing-schedule: a policy run by a schedule passes; a policy nothing runs and unreadable crons are named."""

from __future__ import annotations

from policies.rules import kopiur_missing_schedule as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def _estate():
    estate = f.Estate()
    return estate, estate.add_kopiur()


def test_scheduled_policy_and_replications_pass():
    estate, _ = _estate()
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_policy_without_schedule_is_named():
    estate, nodes = _estate()
    estate.remove(nodes["schedule"])
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "SnapshotPolicy documents/paperless-nas (dataset paperless, tier 1) is run by no SnapshotSchedule, so no "
        "snapshot is ever taken; add a SnapshotSchedule with spec.policyRef.name 'paperless-nas' and a 5-field cron "
        "meeting the tier's RPO."]


def test_schedule_naming_another_policy_leaves_it_unscheduled():
    estate, nodes = _estate()
    nodes["schedule"].props = f.kopiur_schedule(policy="paperless-old")
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("SnapshotPolicy documents/paperless-nas (dataset paperless, tier 1) is run by no ")


def test_six_field_replication_cron_is_named():
    estate, nodes = _estate()
    nodes["b2"].props = f.kopiur_replication("b2", "0 50 2 * * *")
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "RepositoryReplication documents/paperless-b2 (dataset paperless, tier 1) schedule '0 50 2 * * *' is not a "
        "5-field cron: '0 50 2 * * *' has 6 fields; this dialect needs 5 (drop the leading seconds field: "
        "'50 2 * * *'); use e.g. '15 */6 * * *'."]


def test_not_applicable_without_kopiur():
    assert f.run_stack(POLICY, f.Estate().nodes).not_applicable
