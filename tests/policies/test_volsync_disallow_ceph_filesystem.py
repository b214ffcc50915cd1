"""volsync-disallow-ceph-filesystem: block-backed claims pass; CephFS sources and restore targets are named."""

from __future__ import annotations

from policies.rules import volsync_disallow_ceph_filesystem as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_source_on_ceph_block_passes():
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source()).messages == []


def test_source_claim_on_ceph_filesystem():
    props = f.replication_source()
    props["metadata"]["labels"]["backup.homelab/storage-class"] = "ceph-filesystem"
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).messages == [
        "ReplicationSource security/vaultwarden-b2 (dataset vaultwarden, tier 1) backs up a claim on storage class "
        "'ceph-filesystem'; VolSync snapshots of CephFS restore sparse files corrupted: move the claim to a block "
        "class (e.g. ceph-block) first."]


def test_restore_target_on_ceph_filesystem():
    props = f.replication_destination()
    props["spec"]["restic"]["storageClassName"] = "ceph-filesystem"
    assert f.run_resource(POLICY, kinds.REPLICATION_DESTINATION, props).messages == [
        "ReplicationDestination security/vaultwarden-nas-restore (dataset vaultwarden, tier 1) puts the restored claim "
        "on storage class 'ceph-filesystem' (spec.restic.storageClassName); use a block storage class such as "
        "ceph-block."]


def test_forbidden_classes_come_from_config():
    config = {"forbiddenStorageClasses": ["ceph-block"]}
    (message,) = f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source(), config=config).messages
    assert "backs up a claim on storage class 'ceph-block';" in message


def test_source_without_storage_class_label_is_not_applicable():
    props = f.replication_source()
    del props["metadata"]["labels"]["backup.homelab/storage-class"]
    assert f.run_resource(POLICY, kinds.REPLICATION_SOURCE, props).not_applicable == (
        "the source claim's storage class is unknown: the object carries no backup.homelab/storage-class label")
