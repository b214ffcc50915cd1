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

import hashlib
import math
from typing import Any
from urllib.parse import urlsplit

from inventory.models import Dataset, Kubernetes, PvcSource
from inventory.tiers import Retention
from manifests.healthchecks import ping_env
from manifests.meta import CRONJOB_NAME_LIMIT, LABEL_STORAGE_CLASS, labels, metadata, object_name
from manifests.secrets import (
    ACCESS_KEY_ID,
    READER_ACCESS_KEY_ID,
    READER_SECRET_ACCESS_KEY,
    REPOSITORY_PASSWORD,
    SECRET_ACCESS_KEY,
    SecretRef,
    SecretSpec,
)
from manifests.workloads import CURL_IMAGE, PING_FUNCTION, SMALL, container, cronjob, pod_security
from plan.cron import DAY_MINUTES, Cron
from plan.model import CopyPlan, DatasetPlan

API_VERSION = "volsync.backube/v1alpha1"
MOVERS = ("restic", "kopia")
MAX_PRUNE_INTERVAL_DAYS = 7
KOPIA_KEEP_LATEST = 1
"""Kopia's own default keeps the 10 newest snapshots on top of every level; one newest is all the plan wants."""
DRILL_CHECK_DELAY_MINUTES = 4 * 60
"""How long after a drill restore starts its check runs: the restore must finish within this time."""
DRILL_AFTER_MAINTENANCE_MINUTES = 60
"""Drill restores start an hour after the repository's maintenance slot, away from backups and maintenance."""
CHECKSUM_ENV = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}
"""Design §5 for non-AWS S3. VolSync forwards only allow-listed keys to movers, so these reach AWS-SDK tools only."""


# ---------------------------------------------------------------------------------------------
# Names


def source_name(ds: Dataset, copy: CopyPlan) -> str:
    """The ReplicationSource of one copy: `<dataset>-<destination>` (metrics carry it as `obj_name`)."""
    return object_name(ds.name, copy.destination)


def repository_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """The repository Secret of one copy: one per PVC x destination, never shared."""
    return object_name(ds.name, copy.destination, "repo")


def reader_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """The read-only twin of a repository Secret, for jobs that only read (the kopia integrity check)."""
    return object_name(ds.name, copy.destination, "repo-ro")


def restore_name(ds: Dataset, copy: CopyPlan) -> str:
    """The manual-restore ReplicationDestination of one copy (one per copy: it reads a single repository)."""
    return object_name(ds.name, copy.destination, "restore")


def drill_name(ds: Dataset, copy: CopyPlan, limit: int = 63) -> str:
    """Shared name of a drill's scratch PVC, ReplicationDestination and check CronJob."""
    return object_name(ds.name, copy.destination, "drill", limit=limit)


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


def maintenance_schedule(copy: CopyPlan) -> Cron:
    """Daily, half a backup interval after the copy's first start, so maintenance and backup rarely overlap."""
    offset = copy.schedule.every_hours * 30
    return Cron((copy.schedule.minute_of_day + offset) % DAY_MINUTES, 24)


def _drill_slot(ds: Dataset, copy: CopyPlan, every_days: int) -> tuple[int, int | None, int | None]:
    """(minute of day, day of month, weekday) of a drill restore; None = every day / any weekday."""
    seed = int.from_bytes(hashlib.sha256(f"{ds.name}/{copy.destination}/drill".encode()).digest()[:8], "big")
    minute = (maintenance_schedule(copy).minute_of_day + DRILL_AFTER_MAINTENANCE_MINUTES) % DAY_MINUTES
    if every_days >= 28:
        return minute, 2 + seed % 26, None  # days 2..27: clear of month-start jobs, check day still <= 28
    if every_days >= 7:
        return minute, None, seed % 7
    return minute, None, None


def _five_field(minute_of_day: int, dom: int | None, dow: int | None) -> str:
    day = "*" if dom is None else str(dom)
    weekday = "*" if dow is None else str(dow)
    return f"{minute_of_day % 60} {minute_of_day // 60} {day} * {weekday}"


def drill_schedules(ds: Dataset, copy: CopyPlan, dataset_plan: DatasetPlan) -> tuple[str, str]:
    """5-field crons of a drill: (restore, check). Monthly cadences run on one day of the month."""
    if dataset_plan.drill_every_days < 1:
        raise ValueError(f"{ds.name}: tier {ds.tier} schedules no restore drill (drill_every_days is 0)")
    minute, dom, dow = _drill_slot(ds, copy, dataset_plan.drill_every_days)
    check = minute + DRILL_CHECK_DELAY_MINUTES
    check_dom, check_dow = dom, dow
    if check >= DAY_MINUTES:
        check_dom = None if dom is None else dom + 1
        check_dow = None if dow is None else (dow + 1) % 7
    return _five_field(minute, dom, dow), _five_field(check % DAY_MINUTES, check_dom, check_dow)


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _pvc(ds: Dataset, copy: CopyPlan) -> PvcSource:
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


def _repository_dir(copy: CopyPlan) -> str:
    """Where a filesystem repository lives inside the mover: under the NFS mount, one folder per PVC."""
    return f"/mnt/{copy.destination}/{copy.bucket}/{copy.repository}"


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
    """One ConfigMap per (namespace, destination) with a private CA: the bundle is public, so no Secret."""
    return f"hlb-ca-{copy.destination}"


def ca_config_map(namespace: str, copy: CopyPlan, bundle: str) -> dict[str, Any]:
    """The destination's CA bundle where VolSync's `customCA` (restic and kopia movers) reads it."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ca_config_map_name(copy), "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "homelab-backups",
                                    "backup.homelab/destination": copy.destination}},
            "data": {CA_KEY: bundle}}


def _common_mover(ds: Dataset, copy: CopyPlan, source: PvcSource) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "repository": repository_secret_name(ds, copy),
        "cacheCapacity": source.cache_capacity,
        "moverSecurityContext": _security(source),
        "moverPodLabels": labels(ds.name, ds.tier, copy.destination),
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


def _kopia_identity(ds: Dataset, copy: CopyPlan, source: PvcSource) -> dict[str, str]:
    """Restores name the ReplicationSource whose snapshots they read, so they work even after it is gone."""
    return {"sourceName": source_name(ds, copy), "sourceNamespace": source.namespace, "sourcePVCName": source.claim}


# ---------------------------------------------------------------------------------------------
# Builders


def replication_source(ds: Dataset, copy: CopyPlan, kube: Kubernetes) -> dict[str, Any]:
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
                             {**labels(ds.name, ds.tier, copy.destination), LABEL_STORAGE_CLASS: source.storage_class}),
        "spec": {
            "sourcePVC": source.claim,
            "trigger": {"schedule": copy.schedule.five_field()},
            source.mover: mover,
        },
    }


def repository_secret(ds: Dataset, copy: CopyPlan) -> SecretSpec:
    """The repository Secret the mover reads: location and non-secret settings as values, secrets as refs."""
    source = _pvc(ds, copy)
    data: dict[str, str | SecretRef] = {}
    if source.mover == "restic":
        data["RESTIC_PASSWORD"] = REPOSITORY_PASSWORD
        if _is_nfs(copy):
            data["RESTIC_REPOSITORY"] = _repository_dir(copy)
        else:
            data["RESTIC_REPOSITORY"] = f"s3:{copy.endpoint}/{copy.bucket}/{copy.repository}"
            data["AWS_DEFAULT_REGION"] = copy.region
    else:
        data["KOPIA_PASSWORD"] = REPOSITORY_PASSWORD
        if _is_nfs(copy):
            data["KOPIA_REPOSITORY"] = f"filesystem://{_repository_dir(copy)}"
        else:
            endpoint = urlsplit(copy.endpoint)
            if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
                raise ValueError(f"{copy.key}: S3 endpoint {copy.endpoint!r} needs an http(s) scheme and a host")
            data["KOPIA_REPOSITORY"] = f"s3://{copy.bucket}/{copy.repository}"
            data["KOPIA_S3_ENDPOINT"] = endpoint.netloc
            data["AWS_REGION"] = copy.region
            if endpoint.scheme == "http":
                data["KOPIA_S3_DISABLE_TLS"] = "true"
    if not _is_nfs(copy):
        data["AWS_ACCESS_KEY_ID"] = ACCESS_KEY_ID
        data["AWS_SECRET_ACCESS_KEY"] = SECRET_ACCESS_KEY
        if copy.checksum_env:
            data.update(CHECKSUM_ENV)
    return SecretSpec(
        name=repository_secret_name(ds, copy),
        namespace=source.namespace,
        labels=labels(ds.name, ds.tier, copy.destination),
        data=data,
    )


def reader_secret(ds: Dataset, copy: CopyPlan) -> SecretSpec:
    """The repository Secret with the copy's read-only S3 key in place of the writer's."""
    spec = repository_secret(ds, copy)
    data = dict(spec.data)
    if "AWS_ACCESS_KEY_ID" not in data:
        raise ValueError(f"{copy.key}: an NFS repository has no S3 key, so it has no read-only twin")
    data["AWS_ACCESS_KEY_ID"] = READER_ACCESS_KEY_ID
    data["AWS_SECRET_ACCESS_KEY"] = READER_SECRET_ACCESS_KEY
    return SecretSpec(name=reader_secret_name(ds, copy), namespace=spec.namespace, labels=spec.labels, data=data)


def kopia_maintenance(ds: Dataset, copy: CopyPlan, schedule: Cron | None = None) -> dict[str, Any]:
    """Repository maintenance for one kopia repository (the fork removed it from the ReplicationSource).

    Full maintenance must come round within the object-lock period minus a day (design §5), so the lock never
    lapses on data kopia still references; daily runs satisfy any lock of two days or more.
    """
    source = _pvc(ds, copy)
    if source.mover != "kopia":
        raise ValueError(f"{copy.key}: KopiaMaintenance only applies to kopia repositories")
    cron = schedule or maintenance_schedule(copy)
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
        "moverPodLabels": labels(ds.name, ds.tier, copy.destination),
    }
    volumes = mover_volumes(copy)
    if volumes:
        spec["moverVolumes"] = volumes
    return {
        "apiVersion": API_VERSION,
        "kind": "KopiaMaintenance",
        "metadata": metadata(
            object_name(ds.name, copy.destination, "maintenance"), source.namespace,
            labels(ds.name, ds.tier, copy.destination),
        ),
        "spec": spec,
    }


def _destination_mover(ds: Dataset, copy: CopyPlan, source: PvcSource, claim: str) -> dict[str, Any]:
    mover = _common_mover(ds, copy, source)
    mover["destinationPVC"] = claim
    mover["copyMethod"] = "Direct"
    mover["cleanupCachePVC"] = True
    if source.mover == "kopia":
        mover["sourceIdentity"] = _kopia_identity(ds, copy, source)
    return mover


def replication_destination_restore(
    ds: Dataset, copy: CopyPlan, *, trigger: str = "restore-once", armed: bool = False
) -> dict[str, Any]:
    """A one-shot restore of one copy into the live claim; paused unless `armed` (see the module docstring)."""
    source = _pvc(ds, copy)
    return {
        "apiVersion": API_VERSION,
        "kind": "ReplicationDestination",
        "metadata": metadata(restore_name(ds, copy), source.namespace, labels(ds.name, ds.tier, copy.destination)),
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


def drill_objects(
    ds: Dataset, copy: CopyPlan, pings: bool, dataset_plan: DatasetPlan
) -> list[dict[str, Any]]:
    """A scheduled scratch restore of one copy: throwaway PVC, ReplicationDestination and a read-only check.

    The restore runs on the tier's drill cadence; the check runs `DRILL_CHECK_DELAY_MINUTES` later, mounts the
    scratch claim read-only, requires it to be non-empty and freshly written (restores reset each file's
    ctime), and pings Healthchecks `<base><slug>-drill` or `.../fail`.
    """
    source = _pvc(ds, copy)
    if dataset_plan.name != ds.name:
        raise ValueError(f"dataset plan {dataset_plan.name!r} does not describe {ds.name!r}")
    restore_cron, check_cron = drill_schedules(ds, copy, dataset_plan)
    object_labels = labels(ds.name, ds.tier, copy.destination)
    name = drill_name(ds, copy)
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
    mover = _destination_mover(ds, copy, source, name)
    # Mirror the snapshot exactly: files left over from an earlier drill must not mask a partial restore.
    mover["enableFileDeletion"] = True
    destination = {
        "apiVersion": API_VERSION,
        "kind": "ReplicationDestination",
        "metadata": metadata(name, source.namespace, object_labels),
        "spec": {"trigger": {"schedule": restore_cron}, source.mover: mover},
    }
    env: dict[str, Any] = {"WINDOW_MINUTES": str(DRILL_CHECK_DELAY_MINUTES + 60)}
    if pings:
        env |= ping_env(ds, f"{copy.healthcheck_slug}-drill")
    check = cronjob(
        name=drill_name(ds, copy, limit=CRONJOB_NAME_LIMIT),
        namespace=source.namespace,
        object_labels=object_labels,
        schedule=check_cron,
        container=container(
            "check", CURL_IMAGE, _DRILL_SCRIPT, env,
            [{"name": "restored", "mountPath": "/restored", "readOnly": True}], SMALL,
        ),
        volumes=[{"name": "restored", "persistentVolumeClaim": {"claimName": name, "readOnly": True}}],
        security=pod_security(source.run_as_user or 65534, source.run_as_group or 65534),
        deadline_seconds=1800,
    )
    return [pvc, destination, check]
