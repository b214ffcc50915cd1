"""VolSync objects for PVC datasets: one ReplicationSource and one repository Secret per PVC x destination,
KopiaMaintenance for kopia repositories, a manual restore and a scheduled scratch-restore drill.

Movers: `restic` is upstream VolSync (`spec.restic`); `kopia` needs the perfectra1n fork (`spec.kopia`, whose
`retain` knows `latest` but neither `last` nor `within`). NFS destinations are mounted into the mover through
`moverVolumes` (at `/mnt/<destination>`) and hold a filesystem repository; object-storage destinations use S3.

Restoring (the runbook): `replication_destination_restore` renders a ReplicationDestination that writes straight
into the live claim (`copyMethod: Direct`). It is rendered `paused: true`, because creating an unpaused one with a
manual trigger would overwrite the claim on the spot. To restore: scale the app to zero, optionally choose an
older point in time by adding `previous: N` (skip the N newest snapshots) or `restoreAsOf: <RFC 3339 time>`
(the newest snapshot at or before it) under `spec.restic` / `spec.kopia`, set `spec.paused: false`, wait until
`status.lastManualSync` equals `spec.trigger.manual`, pause it again and scale the app back up. To restore
again later, change `spec.trigger.manual` to a new value.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from inventory.models import Kubernetes, PvcSource
from inventory.tiers import Retention
from manifests.healthchecks import ping_env
from manifests.meta import LABEL_STORAGE_CLASS, metadata
from manifests.secrets import (
    READER_ACCESS_KEY_ID,
    READER_SECRET_ACCESS_KEY,
    SecretRef,
    SecretSpec,
)
from manifests.workloads import CURL_IMAGE, PING_FUNCTION, SMALL, container, cronjob, pod_security
from plan.cron import Cron
from plan.model import CopyPlan
from plan.names import ca_config_map as planned_ca_config_map
from plan.units import DRILL_CHECK_DELAY_MINUTES, ProtectionUnit

API_VERSION = "volsync.backube/v1alpha1"
MOVERS = ("restic", "kopia")
MAX_PRUNE_INTERVAL_DAYS = 7
KOPIA_KEEP_LATEST = 1
"""Kopia's own default keeps the 10 newest snapshots on top of every level; one newest is all the plan wants."""


# ---------------------------------------------------------------------------------------------
# Names (the plan's: `plan.units.CopyObjects`)


def source_name(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The ReplicationSource of one copy: `<dataset>-<destination>` (metrics carry it as `obj_name`)."""
    return _names(unit, copy).source_object or ""


def repository_secret_name(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The repository Secret of one copy: one per PVC x destination, never shared."""
    return _names(unit, copy).repository_secret or ""


def reader_secret_name(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The read-only twin of a repository Secret, for jobs that only read (the kopia integrity check)."""
    name = _names(unit, copy).reader_secret
    if name is None:
        raise ValueError(f"{copy.key}: an NFS repository has no S3 key, so it has no read-only twin")
    return name


def restore_name(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The manual-restore ReplicationDestination of one copy (one per copy: it reads a single repository)."""
    return _names(unit, copy).restore_object or ""


def _names(unit: ProtectionUnit, copy: CopyPlan):  # noqa: ANN202 (plan.units.CopyObjects)
    _pvc(unit, copy)
    return unit.copy_objects(copy.destination)


# ---------------------------------------------------------------------------------------------
# Derived settings


def prune_interval_days(retention: Retention) -> int:
    """Days between restic prunes: half the shortest retention window, between 1 and 7.

    Forget only drops snapshots; prune frees their data. Pruning at half the shortest window bounds the space
    held by released data to a fraction of what that level retains. The 7-day cap (VolSync's default) keeps that
    overhead within the cost estimate on long windows, and prune's exclusive lock is taken at most daily.
    """
    half = math.floor(retention.shortest_window_days() / 2)
    return max(1, min(MAX_PRUNE_INTERVAL_DAYS, half))


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _pvc(ds: ProtectionUnit, copy: CopyPlan) -> PvcSource:
    source = ds.source
    if not isinstance(source, PvcSource):
        raise TypeError(f"{ds.name}: VolSync protects pvc datasets, not {source.kind}")
    if copy.dataset != ds.name:
        raise ValueError(f"copy {copy.key} belongs to {copy.dataset!r}, not {ds.name!r}")
    if copy.tool != source.mover:
        raise ValueError(f"{copy.key}: planned tool {copy.tool!r} differs from the source mover {source.mover!r}")
    return source


def _is_nfs(copy: CopyPlan) -> bool:
    return copy.kind == "nfs"


def _nfs_export(copy: CopyPlan) -> tuple[str, str]:
    parts = urlsplit(copy.endpoint)
    if parts.scheme != "nfs" or not parts.hostname or not parts.path.startswith("/"):
        raise ValueError(f"{copy.key}: NFS endpoint {copy.endpoint!r} is not nfs://server/path")
    return parts.hostname, parts.path


def mover_volumes(copy: CopyPlan) -> list[dict[str, Any]]:
    """The NFS export a mover (or a check job) mounts for a copy on the NAS; none for object storage."""
    if not _is_nfs(copy):
        return []
    server, path = _nfs_export(copy)
    return [{"mountPath": copy.destination, "volumeSource": {"nfs": {"server": server, "path": path}}}]


def _security(source: PvcSource) -> dict[str, Any]:
    """Unprivileged movers run as the app, so restored files keep their owner and the NAS sees one uid."""
    context: dict[str, Any] = {
        "runAsUser": source.run_as_user,
        "runAsGroup": source.run_as_group,
        "fsGroup": source.run_as_group,
    }
    if source.run_as_user:
        context["runAsNonRoot"] = True
    return context


CA_KEY = "ca.crt"
"""Key of the private CA bundle in its ConfigMap."""


def ca_config_map_name(copy: CopyPlan) -> str:
    """One ConfigMap per (namespace, destination) with a private CA, named by the plan (`CopyObjects.ca_config_map`)."""
    return planned_ca_config_map(copy.destination)


def ca_config_map(namespace: str, copy: CopyPlan, bundle: str) -> dict[str, Any]:
    """The destination's CA bundle where VolSync's `customCA` (restic and kopia movers) reads it."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ca_config_map_name(copy), "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "homelab-backups",
                                    "backup.homelab/destination": copy.destination}},
            "data": {CA_KEY: bundle}}


def _common_mover(ds: ProtectionUnit, copy: CopyPlan, source: PvcSource) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "repository": repository_secret_name(ds, copy),
        "cacheCapacity": source.cache_capacity,
        "moverSecurityContext": _security(source),
        "moverPodLabels": _names(ds, copy).labels,
    }
    if copy.private_ca:
        spec["customCA"] = {"configMapName": ca_config_map_name(copy), "key": CA_KEY}
    volumes = mover_volumes(copy)
    if volumes:
        spec["moverVolumes"] = volumes
    return spec


def _retain(copy: CopyPlan, mover: str) -> dict[str, int]:
    levels = copy.retention.levels()
    if mover == "restic":
        return dict(levels)
    # Kopia keeps its global defaults for any level left unset; pin every level so the plan is the policy.
    retain = {level: levels.get(level, 0) for level in ("hourly", "daily", "weekly", "monthly", "yearly")}
    retain["latest"] = KOPIA_KEEP_LATEST
    return retain


def _kopia_identity(ds: ProtectionUnit, copy: CopyPlan, source: PvcSource) -> dict[str, str]:
    """Restores name the ReplicationSource whose snapshots they read, so they work even after it is gone."""
    return {"sourceName": source_name(ds, copy), "sourceNamespace": source.namespace, "sourcePVCName": source.claim}


# ---------------------------------------------------------------------------------------------
# Builders


def replication_source(ds: ProtectionUnit, copy: CopyPlan, kube: Kubernetes) -> dict[str, Any]:
    """The scheduled backup of one PVC to one destination."""
    source = _pvc(ds, copy)
    mover = _common_mover(ds, copy, source)
    mover["copyMethod"] = source.copy_method
    if source.copy_method == "Snapshot":
        snapshot_class = source.volume_snapshot_class or kube.volume_snapshot_class
        if snapshot_class:
            mover["volumeSnapshotClassName"] = snapshot_class
    mover["retain"] = _retain(copy, source.mover)
    if source.mover == "restic":
        mover["pruneIntervalDays"] = prune_interval_days(copy.retention)
    return {
        "apiVersion": API_VERSION,
        "kind": "ReplicationSource",
        "metadata": metadata(source_name(ds, copy), source.namespace,
                             {**_names(ds, copy).labels, LABEL_STORAGE_CLASS: source.storage_class}),
        "spec": {
            "sourcePVC": source.claim,
            "trigger": {"schedule": copy.schedule.five_field()},
            source.mover: mover,
        },
    }


def repository_secret(ds: ProtectionUnit, copy: CopyPlan) -> SecretSpec:
    """The repository Secret the mover reads: the plan's repository settings, secrets as references."""
    source = _pvc(ds, copy)
    names = _names(ds, copy)
    assert names.repository is not None  # the plan gives every VolSync copy its settings
    data: dict[str, str | SecretRef] = {key: SecretRef(field) for key, field in names.repository.secrets.items()}
    data |= names.repository.values
    return SecretSpec(name=repository_secret_name(ds, copy), namespace=source.namespace, labels=names.labels,
                      data=data)


def reader_secret(ds: ProtectionUnit, copy: CopyPlan) -> SecretSpec:
    """The repository Secret with the copy's read-only S3 key in place of the writer's."""
    spec = repository_secret(ds, copy)
    data = dict(spec.data)
    if "AWS_ACCESS_KEY_ID" not in data:
        raise ValueError(f"{copy.key}: an NFS repository has no S3 key, so it has no read-only twin")
    data["AWS_ACCESS_KEY_ID"] = READER_ACCESS_KEY_ID
    data["AWS_SECRET_ACCESS_KEY"] = READER_SECRET_ACCESS_KEY
    return SecretSpec(name=reader_secret_name(ds, copy), namespace=spec.namespace, labels=spec.labels, data=data)


def kopia_maintenance(ds: ProtectionUnit, copy: CopyPlan, schedule: Cron | None = None) -> dict[str, Any]:
    """Repository maintenance for one kopia repository (the fork removed it from the ReplicationSource).

    Full maintenance must come round within the object-lock period minus a day (design §5), so the lock never
    lapses on data kopia still references; daily runs satisfy any lock of two days or more.
    """
    source = _pvc(ds, copy)
    if source.mover != "kopia":
        raise ValueError(f"{copy.key}: KopiaMaintenance only applies to kopia repositories")
    cron = schedule or _names(ds, copy).maintenance
    if cron is None:
        raise ValueError(f"{copy.key}: the plan schedules no maintenance for this copy")
    if copy.lock_days:
        limit_hours = (copy.lock_days - 1) * 24
        if cron.interval_hours > limit_hours:
            raise ValueError(
                f"{copy.key}: full maintenance every {cron.interval_hours} h exceeds the {copy.lock_days}-day lock "
                f"minus one day ({limit_hours} h); use a lock of at least 2 days or a more frequent schedule"
            )
    spec: dict[str, Any] = {
        "repository": {"repository": repository_secret_name(ds, copy)},
        "trigger": {"schedule": cron.five_field()},
        "enabled": True,
        "podSecurityContext": _security(source),
        "moverPodLabels": _names(ds, copy).labels,
    }
    volumes = mover_volumes(copy)
    if volumes:
        spec["moverVolumes"] = volumes
    return {
        "apiVersion": API_VERSION,
        "kind": "KopiaMaintenance",
        "metadata": metadata(
            _names(ds, copy).maintenance_object, source.namespace,
            _names(ds, copy).labels,
        ),
        "spec": spec,
    }


def _destination_mover(ds: ProtectionUnit, copy: CopyPlan, source: PvcSource, claim: str) -> dict[str, Any]:
    mover = _common_mover(ds, copy, source)
    mover["destinationPVC"] = claim
    mover["copyMethod"] = "Direct"
    mover["cleanupCachePVC"] = True
    if source.mover == "kopia":
        mover["sourceIdentity"] = _kopia_identity(ds, copy, source)
    return mover


def replication_destination_restore(
    ds: ProtectionUnit, copy: CopyPlan, *, trigger: str = "restore-once", armed: bool = False
) -> dict[str, Any]:
    """A one-shot restore of one copy into the live claim; paused unless `armed` (see the module docstring)."""
    source = _pvc(ds, copy)
    return {
        "apiVersion": API_VERSION,
        "kind": "ReplicationDestination",
        "metadata": metadata(restore_name(ds, copy), source.namespace, _names(ds, copy).labels),
        "spec": {
            "paused": not armed,
            "trigger": {"manual": trigger},
            source.mover: _destination_mover(ds, copy, source, source.claim),
        },
    }


_DRILL_SCRIPT = PING_FUNCTION + """
entries=$(find /restored -mindepth 1 2>/dev/null | wc -l)
fresh=$(find /restored -mindepth 1 -cmin "-$WINDOW_MINUTES" 2>/dev/null | head -n 1)
if [ "$entries" -gt 0 ] && [ -n "$fresh" ]; then
  msg="restore drill passed: $entries entries restored"
  echo "$msg"; ping "" "$msg"; exit 0
fi
msg="restore drill failed: $entries entries, none written in the last $WINDOW_MINUTES minutes"
echo "$msg" >&2; ping /fail "$msg"; exit 1
"""
"""Passes when the scratch claim is non-empty and the last restore touched it (a stale claim fails)."""


def drill_objects(unit: ProtectionUnit, pings: bool) -> list[dict[str, Any]]:
    """The planned scratch restore of the unit's drilled copy: throwaway PVC, ReplicationDestination and a
    read-only check; none when the plan has no drill.

    The restore runs on the tier's drill cadence; the check runs `DRILL_CHECK_DELAY_MINUTES` later, mounts the
    scratch claim read-only, requires it to be non-empty and freshly written (restores reset each file's
    ctime), and pings Healthchecks `<base><slug>-drill` or `.../fail`.
    """
    job = unit.drill
    if job is None:
        return []
    copy = next(c for c in unit.copies if c.destination == job.destination)
    source = _pvc(unit, copy)
    assert job.restore_at is not None and job.scratch is not None  # the plan sets both for VolSync drills
    object_labels = job.labels
    name = job.scratch
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(name, source.namespace, object_labels),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": source.storage_class,
            "resources": {"requests": {"storage": source.capacity}},
        },
    }
    mover = _destination_mover(unit, copy, source, name)
    # Mirror the snapshot exactly: files left over from an earlier drill must not mask a partial restore.
    mover["enableFileDeletion"] = True
    destination = {
        "apiVersion": API_VERSION,
        "kind": "ReplicationDestination",
        "metadata": metadata(name, source.namespace, object_labels),
        "spec": {"trigger": {"schedule": job.restore_at.five_field()}, source.mover: mover},
    }
    env: dict[str, Any] = {"WINDOW_MINUTES": str(DRILL_CHECK_DELAY_MINUTES + 60)}
    if pings:
        env |= ping_env(unit, job.slug)
    check = cronjob(
        name=job.name,
        namespace=source.namespace,
        object_labels=object_labels,
        schedule=job.schedule.five_field(),
        container=container(
            "check", CURL_IMAGE, _DRILL_SCRIPT, env,
            [{"name": "restored", "mountPath": "/restored", "readOnly": True}], SMALL,
        ),
        volumes=[{"name": "restored", "persistentVolumeClaim": {"claimName": name, "readOnly": True}}],
        security=pod_security(source.run_as_user or 65534, source.run_as_group or 65534),
        deadline_seconds=1800,
    )
    return [pvc, destination, check]
