"""volsync-missing-copy-method: sources and restores with a copyMethod pass; missing or invalid ones are named."""

from __future__ import annotations

from policies.rules import volsync_missing_copy_method as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_sources_and_restores_pass():
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source()).messages == []
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.kopia_source()).messages == []
    assert f.run_resource(POLICY, kinds.REPLICATION_DESTINATION, f.replication_destination()).messages == []


def test_source_without_copy_method():
    props = f.replication_source()
    del props["spec"]["restic"]["copyMethod"]
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) sets no spec.restic.copyMethod, and "
        "VolSync has no default (the job fails with 'unsupported copyMethod'); set it to Snapshot (or Clone), or "
        "Direct for restores."]


def test_deprecated_none_alias():
    props = f.replication_destination()
    props["spec"]["restic"]["copyMethod"] = "None"
    assert f.run_resource(POLICY, kinds.REPLICATION_DESTINATION, props).messages == [
        "ReplicationDestination security/vaultwarden-nas-restore (dataset vaultwarden, tier 1) sets copyMethod 'None' "
        "('None' is a deprecated alias of Direct); use one of Direct, Clone, Snapshot."]


def test_source_without_mover():
    props = f.replication_source()
    del props["spec"]["restic"]
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) has no mover section (spec.restic, "
        "spec.kopia, ...); add one with copyMethod Snapshot (or Direct for restores)."]


def test_syncthing_is_not_applicable():
    props = f.replication_source()
    props["spec"] = {"syncthing": {"peers": []}}
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).not_applicable == (
        "the syncthing mover has no copyMethod")
