"""No VolSync backups of, or restores into, CephFS volumes (`ceph-filesystem`).

Snapshots and clones of CephFS volumes restore sparse files incorrectly (design §9), so a backup taken from them can
come back corrupted. The source PVC's class is not on the ReplicationSource: the program labels it
`backup.homelab/storage-class`; the mover's own `storageClassName` (its snapshot copy, or the restore target) is
checked as well.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import LABEL_STORAGE_CLASS, labels_of, require
from .support.text import k8s_title, protects

META = Meta(
    name="volsync-disallow-ceph-filesystem",
    description="VolSync must not back up from or restore into ceph-filesystem volumes.",
    severity=Severity.HIGH,
    remediation="Move the claim to a block storage class (e.g. ceph-block) before protecting it with VolSync, and "
                "restore into block-backed claims.",
    config_keys=("forbiddenStorageClasses",),
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages when the source claim, the mover copy or the restore target uses a forbidden storage class."""
    forbidden = set(settings["forbiddenStorageClasses"])
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    found = kinds.mover(resource.props)
    mover_name, spec = found if found is not None else ("mover", {})
    messages = []
    label = require(labels_of(resource.props).get(LABEL_STORAGE_CLASS), "metadata", "labels", LABEL_STORAGE_CLASS)
    if label in forbidden:
        messages.append(f"{target} backs up a claim on storage class {label!r}; VolSync snapshots of CephFS restore "
                        "sparse files corrupted: move the claim to a block class (e.g. ceph-block) first.")
    copy_class = require(spec.get("storageClassName"), "spec", mover_name, "storageClassName")
    if copy_class in forbidden:
        what = "its point-in-time copy" if resource.type == kinds.REPLICATION_SOURCE else "the restored claim"
        messages.append(f"{target} puts {what} on storage class {copy_class!r} (spec.{mover_name}.storageClassName); "
                        "use a block storage class such as ceph-block.")
    if not messages and label is None and copy_class is None and resource.type == kinds.REPLICATION_SOURCE:
        raise NotApplicable(f"the source claim's storage class is unknown: the object carries no "
                            f"{LABEL_STORAGE_CLASS} label")
    return messages


POLICY = resource_policy(META, (kinds.REPLICATION_SOURCE, kinds.REPLICATION_DESTINATION), check)
