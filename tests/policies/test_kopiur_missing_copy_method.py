"""kopiur-missing-copy-method: a policy with a copy method on a block class passes; no method or CephFS is named."""

from __future__ import annotations

from policies.rules import kopiur_missing_copy_method as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY
TITLE = "SnapshotPolicy documents/paperless-nas (dataset paperless, tier 1)"


def _run(props):
    return f.run_resource(POLICY, kinds.KOPIUR_POLICY, props).messages


def test_snapshot_copy_method_on_block_storage_passes():
    assert _run(f.kopiur_policy()) == []


def test_missing_copy_method_is_named():
    props = f.kopiur_policy()
    del props["spec"]["copyMethod"]
    assert _run(props) == [f"{TITLE} has no spec.copyMethod; set Snapshot (or Clone) so backups read a "
                           "point-in-time copy of the claim."]


def test_ceph_filesystem_source_is_named():
    props = f.kopiur_policy()
    props["metadata"]["labels"]["backup.homelab/storage-class"] = "ceph-filesystem"
    assert _run(props) == [f"{TITLE} backs up a claim on storage class 'ceph-filesystem'; CephFS snapshots restore "
                           "sparse files corrupted: move the claim to a block class (e.g. ceph-block) first."]
