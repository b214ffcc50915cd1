"""Every Kopiur SnapshotPolicy sets its copy method, and none reads a ceph-filesystem claim.

`copyMethod` decides whether a backup reads a point-in-time snapshot or the live volume; left out, the operator's
default applies silently. CephFS snapshots restore sparse files corrupted (design §9), as with VolSync; the source
claim's class is the `backup.homelab/storage-class` label the program sets.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import LABEL_STORAGE_CLASS, get, labels_of, require
from .support.text import k8s_title, protects

META = Meta(
    name="kopiur-missing-copy-method",
    description="Kopiur snapshot policies must set a copy method and must not read ceph-filesystem claims.",
    severity=Severity.HIGH,
    remediation="Set spec.copyMethod to Snapshot (or Clone; Direct only for volumes that cannot snapshot), and move "
                "claims off ceph-filesystem to a block class before protecting them.",
    config_keys=("forbiddenStorageClasses",),
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for a missing or unknown copy method and for a forbidden source storage class."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    messages = []
    method = require(get(resource.props, "spec", "copyMethod"), "spec", "copyMethod")
    if method is None:
        messages.append(f"{target} has no spec.copyMethod; set Snapshot (or Clone) so backups read a point-in-time "
                        "copy of the claim.")
    label = require(labels_of(resource.props).get(LABEL_STORAGE_CLASS), "metadata", "labels", LABEL_STORAGE_CLASS)
    if label in set(settings["forbiddenStorageClasses"]):
        messages.append(f"{target} backs up a claim on storage class {label!r}; CephFS snapshots restore sparse "
                        "files corrupted: move the claim to a block class (e.g. ceph-block) first.")
    return messages


POLICY = resource_policy(META, (kinds.KOPIUR_POLICY,), check)
