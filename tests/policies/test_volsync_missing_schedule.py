"""volsync-missing-schedule: 5-field schedules pass; missing, manual-only and 6-field ones are named."""

from __future__ import annotations

from policies.rules import volsync_missing_schedule as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_source_passes():
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source()).messages == []


def test_source_without_trigger_runs_back_to_back():
    props = f.replication_source()
    del props["spec"]["trigger"]
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) has no spec.trigger.schedule, so it "
        "syncs back-to-back, without pause; set a 5-field cron meeting the tier's RPO, e.g. '15 */6 * * *'."]


def test_manual_only_trigger():
    props = f.replication_source()
    props["spec"]["trigger"] = {"manual": "once"}
    (message,) = f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages
    assert "so it syncs only when spec.trigger.manual changes;" in message


def test_six_field_schedule():
    props = f.replication_source()
    props["spec"]["trigger"]["schedule"] = "0 15 1 * * *"
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) schedule '0 15 1 * * *' is not a "
        "5-field cron: '0 15 1 * * *' has 6 fields; this dialect needs 5 (drop the leading seconds field: "
        "'15 1 * * *')."]


def test_out_of_range_schedule():
    props = f.replication_source()
    props["spec"]["trigger"]["schedule"] = "15 25 * * *"
    (message,) = f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages
    assert message.endswith("schedule '15 25 * * *' is not a 5-field cron: hour field '25' is outside 0-23.")
