"""volsync-missing-retention: sources with retain pass; an absent or all-zero retain is named with its effect."""

from __future__ import annotations

from policies.rules import volsync_missing_retention as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_restic_and_kopia_sources_pass():
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source()).messages == []
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.kopia_source()).messages == []


def test_restic_without_retain_keeps_one_snapshot():
    props = f.replication_source()
    del props["spec"]["restic"]["retain"]
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) sets no spec.restic.retain, so the "
        "repository is pruned by restic forget --keep-last 1 (one snapshot); set the tier's levels, e.g. retain: "
        "{daily: 14, weekly: 4, monthly: 3}."]


def test_kopia_with_only_zero_levels():
    props = f.kopia_source()
    props["spec"]["kopia"]["retain"] = {"daily": 0.0}
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource monitoring/grafana-nas (dataset grafana, tier 2) sets spec.kopia.retain {'daily': 0.0} with "
        "no level above zero; keep at least one level, e.g. daily: 14."]


def test_restic_within_counts_as_a_level():
    props = f.replication_source()
    props["spec"]["restic"]["retain"] = {"within": "30d"}
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == []


def test_rclone_mover_is_not_applicable():
    props = f.replication_source()
    props["spec"] = {"rclone": {"copyMethod": "Snapshot"}}
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).not_applicable == (
        "only restic and kopia movers keep snapshot history")
