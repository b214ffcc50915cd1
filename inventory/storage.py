"""Storage classes that cannot snapshot: a Snapshot or Clone copy there fails at run time, so refuse it now.

VolSync's Snapshot and Clone copy methods ask the class's CSI driver for a VolumeSnapshot or a clone. Provisioners
without CSI snapshot support (rancher's local-path, hostpath, the NFS subdir provisioner) never provide one and the
mover waits forever. Those claims can only be copied with `copy_method: Direct`, which reads the live volume.
"""

from __future__ import annotations

from inventory.models import Inventory, Location, PvcSource

SNAPSHOTLESS_CLASSES = frozenset({
    "local-path",  # rancher/local-path-provisioner (k3s default)
    "hostpath", "microk8s-hostpath", "standard-hostpath",  # hostPath provisioners (microk8s, minikube-like)
    "nfs-client", "nfs-subdir-external-provisioner", "managed-nfs-storage",  # kubernetes-sigs NFS subdir classes
    "openebs-hostpath",  # OpenEBS LocalPV hostpath
})
"""Common class names whose provisioners take no CSI snapshots or clones (declare others in the inventory)."""


def snapshotless(inv: Inventory) -> frozenset[str]:
    """Classes this estate treats as unable to snapshot: the known ones and the declared ones, minus declared
    capable ones."""
    kube = inv.kubernetes
    return (SNAPSHOTLESS_CLASSES | frozenset(kube.snapshotless_classes)) - frozenset(kube.snapshot_classes)


def storage_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """PVC datasets whose copy method needs snapshots their class cannot take."""
    classes = snapshotless(inv)
    problems: list[tuple[Location, str]] = []
    for i, ds in enumerate(inv.datasets):
        source = ds.source
        if isinstance(source, PvcSource) and source.storage_class in classes and source.copy_method != "Direct":
            problems.append((("datasets", i, "source", "copy_method"),
                             f"{source.copy_method} needs a CSI snapshot or clone, which storage class "
                             f"{source.storage_class!r} cannot make, so every backup would fail at run time; set "
                             "copy_method: Direct (backups then read the live files: see the runbook's consistency "
                             "note), or list the class under kubernetes.snapshot_classes if its driver can snapshot"))
    for j, name in enumerate(inv.kubernetes.snapshot_classes):
        if name in inv.kubernetes.snapshotless_classes:
            problems.append((("kubernetes", "snapshot_classes", j),
                             f"{name!r} is also listed under kubernetes.snapshotless_classes; keep it in one list"))
    return problems
