"""Kopiur objects for pvc datasets with `mover: kopiur` (`kopiur.home-operations.com/v1alpha1`, CRDs 0.10.x).

Per copy Kopiur writes (every copy of an `offsite_by: snapshot` dataset; the NAS copy of a replicated one):

- a Repository `<dataset>-<destination>`: a filesystem repository on the NAS export (mounted over NFS into the
  movers) or an S3 repository under the copy's prefix, opened with the copy's own Secret (`KOPIA_PASSWORD`, and the
  writer's scoped `AWS_*` key on object storage). The operator's own Maintenance is switched off in favour of ours;
  on a locked bucket, kopia's blob retention is set to the copy's lock period (governance), which full maintenance
  extends for blobs still in use;
- a SnapshotPolicy and a SnapshotSchedule of the same name: the PVC as source, the tier's retention (`keepLatest`
  pinned to 1, every level pinned so kopia's defaults never add to it), zstd compression, the mover's cache and
  security context, quick verification on the plan's check time and deep verification on the drill cadence;
  the schedule is the plan's staggered backup time (UTC);
- a Maintenance `<dataset>-<destination>-maintenance`: full daily (within the lock minus a day, design §5) and
  quick every six hours;
- a Restore `<dataset>-<destination>-restore` in populator mode: inert until a PVC names it in `dataSourceRef`
  (the restore procedure, see the runbook).

Per replica (the offsite copies of an `offsite_by: replication` dataset): a RepositoryReplication
`<dataset>-<destination>` from the NAS Repository to the copy's bucket prefix on the replication cadence, with the
replica's own scoped key (`deleteExtra`: the replica mirrors its source; a lock keeps replaced versions), and a
read-only Repository of the same name so a restore can read the replica (its Restore names it).

The scheduled drill (`unit.drill`): a scratch claim, a CronJob that replaces the drill's Restore (populating the
scratch claim from the drilled copy) on the drill cadence, with a ServiceAccount and a Role limited to Restores,
and the VolSync drill's read-only check of the scratch claim, reporting to Healthchecks.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from inventory.models import Kubernetes, PvcSource
from manifests.healthchecks import ping_env
from manifests.meta import CRONJOB_NAME_LIMIT, LABEL_STORAGE_CLASS, LABEL_VERIFICATION, metadata
from manifests.meta import object_name as object_name_of
from manifests.secrets import ACCESS_KEY_ID, REPOSITORY_PASSWORD, SECRET_ACCESS_KEY, SecretRef, SecretSpec
from manifests.volsync import _DRILL_SCRIPT, CA_KEY, ca_config_map_name
from manifests.workloads import CURL_IMAGE, SMALL, container, cronjob, pod_security
from plan.cron import Cron
from plan.kopiur import KOPIUR, quick_maintenance
from plan.model import CopyPlan
from plan.units import DRILL, DRILL_CHECK_DELAY_MINUTES, CopyObjects, ProtectionUnit

GROUP = "kopiur.home-operations.com"
API_VERSION = f"{GROUP}/v1alpha1"
KEEP_LATEST = 1
"""kopia keeps its own 10 newest snapshots on top of every level unless told; one newest is all the plan wants."""
COMPRESSOR = "zstd"
"""What the home-ops components use: fast, and it shrinks configuration volumes well."""
REPOSITORY_MOUNT = "/repository"
"""Where Kopiur mounts a filesystem repository's NAS folder inside its movers."""
PASSWORD_KEY = "KOPIA_PASSWORD"
OWNER = "homelab-backups"
"""The maintenance lease holder: the one owner of every repository this program declares."""
KUBECTL_IMAGE = "docker.io/alpine/k8s:1.34.1"
"""kubectl with a shell, for the drill's trigger job."""
REPLICATION_PARALLEL = 4
"""Blob-copy workers per replication: kopia's default of one makes a first replica take days on a home uplink."""


# ---------------------------------------------------------------------------------------------
# Names and shared pieces


def _names(unit: ProtectionUnit, copy: CopyPlan) -> CopyObjects:
    _pvc(unit, copy)
    return unit.copy_objects(copy.destination)


def _pvc(unit: ProtectionUnit, copy: CopyPlan) -> PvcSource:
    source = unit.source
    if not isinstance(source, PvcSource) or source.mover != KOPIUR:
        raise TypeError(f"{unit.name}: Kopiur protects pvc datasets with mover kopiur")
    if copy.dataset != unit.name or copy.tool != KOPIUR:
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a Kopiur copy of {unit.name!r}")
    return source


def object_name(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The Repository, SnapshotPolicy, SnapshotSchedule (or RepositoryReplication) of one copy."""
    return _names(unit, copy).source_object or ""


def written(unit: ProtectionUnit) -> tuple[CopyPlan, ...]:
    """The copies Kopiur snapshots into (every copy but the replicas)."""
    return tuple(c for c in unit.copies if c.replica_of is None)


def _ref(name: str) -> dict[str, str]:
    return {"kind": "Repository", "name": name}


def _security(source: PvcSource) -> dict[str, Any]:
    """Movers run as the app, so restored files keep their owner and the NAS sees one uid."""
    context: dict[str, Any] = {"runAsUser": source.run_as_user, "runAsGroup": source.run_as_group,
                               "fsGroup": source.run_as_group}
    if source.run_as_user:
        context["runAsNonRoot"] = True
    return context


def _mover(source: PvcSource) -> dict[str, Any]:
    return {"cache": {"capacity": source.cache_capacity, "mode": "Ephemeral"},
            "podSecurityContext": _security(source)}


def _nfs(copy: CopyPlan) -> tuple[str, str]:
    parts = urlsplit(copy.endpoint)
    if parts.scheme != "nfs" or not parts.hostname or not parts.path.startswith("/"):
        raise ValueError(f"{copy.key}: NFS endpoint {copy.endpoint!r} is not nfs://server/path")
    return parts.hostname, parts.path


def nfs_folder(copy: CopyPlan) -> str:
    """The folder on the NAS holding one copy's filesystem repository (it must exist, writable by the app's uid,
    before the first run: Kopiur mounts it, it does not create it)."""
    _, path = _nfs(copy)
    return f"{path.rstrip('/')}/{copy.bucket}/{copy.repository}"


def backend(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    """Where one copy's repository lives: a folder of the NAS export, or the copy's prefix in its bucket."""
    names = _names(unit, copy)
    if copy.kind == "nfs":
        server, _ = _nfs(copy)
        # Kopiur mounts the export at `path` and kopia writes at its root: the dataset's own folder is the mount.
        return {"filesystem": {
            "path": REPOSITORY_MOUNT,
            "volume": {"nfs": {"server": server, "path": nfs_folder(copy)}}}}
    endpoint = urlsplit(copy.endpoint)
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise ValueError(f"{copy.key}: S3 endpoint {copy.endpoint!r} needs an http(s) scheme and a host")
    s3: dict[str, Any] = {"bucket": copy.bucket, "prefix": f"{copy.repository}/", "endpoint": endpoint.netloc,
                          "region": copy.region, "auth": {"secretRef": {"name": names.repository_secret}}}
    if endpoint.scheme == "http":
        s3["tls"] = {"disableTls": True}
    elif copy.private_ca:
        s3["tls"] = {"caBundleRef": {"configMapName": ca_config_map_name(copy), "key": CA_KEY}}
    return {"s3": s3}


# ---------------------------------------------------------------------------------------------
# Repositories, credentials and replication


def repository_secret(unit: ProtectionUnit, copy: CopyPlan) -> SecretSpec:
    """The Secret a copy's movers load (`envFrom`): the repository password, and on object storage the copy's
    writer key. A replica's Secret carries its source's password (a replica opens with it)."""
    source = _pvc(unit, copy)
    names = _names(unit, copy)
    data: dict[str, str | SecretRef] = {PASSWORD_KEY: REPOSITORY_PASSWORD}
    if copy.kind != "nfs":
        data |= {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    return SecretSpec(name=names.repository_secret or "", namespace=source.namespace, labels=names.labels,
                      data=data)


def repository(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    """The Repository of one copy: read-write where Kopiur snapshots, read-only over a replica."""
    source = _pvc(unit, copy)
    names = _names(unit, copy)
    spec: dict[str, Any] = {
        "backend": backend(unit, copy),
        "encryption": {"passwordSecretRef": {"name": names.repository_secret, "key": PASSWORD_KEY}},
        # Our Maintenance (below) runs it; two owners would fight over kopia's maintenance lease.
        "maintenance": {"enabled": False},
    }
    if copy.replica_of is not None:
        spec["mode"] = "ReadOnly"
    else:
        spec["create"] = {"enabled": True}
        spec["moverDefaults"] = {"podSecurityContext": _security(source)}
        if copy.lock_days:
            spec["parameters"] = {"blobRetention": {"governance": {"period": f"{copy.lock_days * 24}h"}}}
    return {"apiVersion": API_VERSION, "kind": "Repository",
            "metadata": metadata(object_name(unit, copy), source.namespace, names.labels), "spec": spec}


def replication(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    """The RepositoryReplication filling one replica from the NAS repository on the replication cadence."""
    source = _pvc(unit, copy)
    if copy.replica_of is None:
        raise ValueError(f"{copy.key}: not a replica; Kopiur snapshots into it directly")
    origin = unit.copy_objects(copy.replica_of)
    names = _names(unit, copy)
    return {
        "apiVersion": API_VERSION,
        "kind": "RepositoryReplication",
        "metadata": metadata(object_name(unit, copy), source.namespace, names.labels),
        "spec": {
            "sourceRef": _ref(origin.source_object or ""),
            "destination": backend(unit, copy),
            "schedule": {"cron": copy.schedule.five_field(), "timezone": "Etc/UTC"},
            "sync": {"deleteExtra": True, "parallel": REPLICATION_PARALLEL},
            "mover": {"podSecurityContext": _security(source)},
        },
    }


# ---------------------------------------------------------------------------------------------
# Snapshots, verification, maintenance


def retention(copy: CopyPlan) -> dict[str, int]:
    """The tier's retention as Kopiur's `keep*` fields, every level pinned."""
    levels = copy.retention
    return {"keepLatest": KEEP_LATEST, "keepHourly": levels.hourly, "keepDaily": levels.daily,
            "keepWeekly": levels.weekly, "keepMonthly": levels.monthly, "keepAnnual": levels.yearly}


def _verification(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    check = next((job for job in unit.checks if job.destination == copy.destination), None)
    spec: dict[str, Any] = {}
    if check is not None:
        spec["quick"] = {"schedule": {"cron": check.schedule.five_field(), "timezone": "Etc/UTC"}}
    drill = unit.drill
    if drill is not None and drill.destination == copy.destination and drill.restore_at is not None:
        # Deep verification reads back every file's content: on the drill cadence, two hours before the drill.
        spec["deep"] = {"schedule": {"cron": drill.restore_at.shifted(-120).five_field(), "timezone": "Etc/UTC"}}
    return spec


def snapshot_policy(unit: ProtectionUnit, copy: CopyPlan, kube: Kubernetes) -> dict[str, Any]:
    """What one copy's snapshots take and keep: the PVC into the copy's repository, the tier's retention."""
    source = _pvc(unit, copy)
    if copy.replica_of is not None:
        raise ValueError(f"{copy.key}: a replica is filled by replication, not by a SnapshotPolicy")
    names = _names(unit, copy)
    spec: dict[str, Any] = {
        "repository": _ref(object_name(unit, copy)),
        "sources": [{"pvc": {"name": source.claim}}],
        "copyMethod": source.copy_method,
        "compression": {"compressor": COMPRESSOR},
        "mover": _mover(source),
        "retention": retention(copy),
    }
    if source.copy_method == "Snapshot":
        snapshot_class = source.volume_snapshot_class or kube.volume_snapshot_class
        if snapshot_class:
            spec["volumeSnapshotClassName"] = snapshot_class
    verification = _verification(unit, copy)
    if verification:
        spec["verification"] = verification
    return {"apiVersion": API_VERSION, "kind": "SnapshotPolicy",
            "metadata": metadata(object_name(unit, copy), source.namespace,
                                 {**names.labels, LABEL_STORAGE_CLASS: source.storage_class}),
            "spec": spec}


def snapshot_schedule(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    """When one copy's snapshots run: the plan's staggered time, never overlapping itself."""
    source = _pvc(unit, copy)
    names = _names(unit, copy)
    return {"apiVersion": API_VERSION, "kind": "SnapshotSchedule",
            "metadata": metadata(object_name(unit, copy), source.namespace, names.labels),
            "spec": {"policyRef": {"name": object_name(unit, copy)},
                     "schedule": {"cron": copy.schedule.five_field(), "timezone": "Etc/UTC",
                                  "concurrencyPolicy": "Forbid"}}}


def maintenance(unit: ProtectionUnit, copy: CopyPlan, full: Cron | None = None) -> dict[str, Any]:
    """kopia maintenance of one repository Kopiur writes. Full maintenance must come round within the lock minus a
    day (design §5): it extends the blob retention of what is still referenced before the lock lapses."""
    source = _pvc(unit, copy)
    names = _names(unit, copy)
    cron = full or names.maintenance
    if cron is None or names.maintenance_object is None:
        raise ValueError(f"{copy.key}: the plan schedules no maintenance for this copy (a replica?)")
    if copy.lock_days:
        limit_hours = (copy.lock_days - 1) * 24
        if cron.interval_hours > limit_hours:
            raise ValueError(f"{copy.key}: full maintenance every {cron.interval_hours} h exceeds the "
                             f"{copy.lock_days}-day lock minus one day ({limit_hours} h); use a lock of at least 2 "
                             "days or a more frequent schedule")
    return {"apiVersion": API_VERSION, "kind": "Maintenance",
            "metadata": metadata(names.maintenance_object, source.namespace, names.labels),
            "spec": {"repository": _ref(object_name(unit, copy)),
                     "ownership": {"owner": f"{OWNER}/{source.namespace}/{object_name(unit, copy)}"},
                     "schedule": {"timezone": "Etc/UTC",
                                  "full": {"cron": cron.five_field()},
                                  "quick": {"cron": quick_maintenance(cron).five_field()}},
                     "mover": {"podSecurityContext": _security(source)}}}


def policy_of(unit: ProtectionUnit, copy: CopyPlan) -> str:
    """The SnapshotPolicy whose snapshots a copy holds (a replica holds its source's)."""
    origin = copy.replica_of or copy.destination
    return unit.copy_objects(origin).source_object or ""


def restore(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, Any]:
    """A passive restore of the newest snapshot in one copy: nothing happens until a PVC names it in
    `dataSourceRef` (the runbook's restore procedure); `source.fromPolicy.asOf` picks an older point."""
    source = _pvc(unit, copy)
    names = _names(unit, copy)
    spec: dict[str, Any] = {
        "source": {"fromPolicy": {"name": policy_of(unit, copy)}},
        "target": {"populator": {}},
        "mover": {"podSecurityContext": _security(source)},
    }
    if copy.replica_of is not None:
        spec["repository"] = _ref(object_name(unit, copy))
    return {"apiVersion": API_VERSION, "kind": "Restore",
            "metadata": metadata(names.restore_object or "", source.namespace, names.labels), "spec": spec}


def data_source_ref(unit: ProtectionUnit, copy: CopyPlan) -> dict[str, str]:
    """What a PVC writes under `spec.dataSourceRef` to be populated by the copy's Restore."""
    return {"apiGroup": GROUP, "kind": "Restore", "name": _names(unit, copy).restore_object or ""}


# ---------------------------------------------------------------------------------------------
# The scheduled drill

_TRIGGER_SCRIPT = """set -eu
kubectl -n "$NAMESPACE" delete restores.kopiur.home-operations.com "$RESTORE" --ignore-not-found --wait=true
printf '%s' "$RESTORE_OBJECT" | kubectl -n "$NAMESPACE" create -f -
kubectl -n "$NAMESPACE" wait "restores.kopiur.home-operations.com/$RESTORE" \\
  --for=jsonpath='{.status.phase}'=Succeeded --timeout="${WAIT_SECONDS}s"
"""
"""Replace the drill's Restore (a Restore runs once) and wait for it; the check job judges what it wrote."""


def drill_objects(unit: ProtectionUnit, pings: bool) -> list[dict[str, Any]]:
    """The scheduled scratch restore of the drilled copy; none when the plan has no drill."""
    job = unit.drill
    if job is None:
        return []
    copy = next(c for c in unit.copies if c.destination == job.destination)
    source = _pvc(unit, copy)
    assert job.restore_at is not None and job.scratch is not None  # the plan sets both for pvc drills
    # The verification label tells the pack these objects are a drill (VolSync's are known by their kind).
    name, namespace, labels = job.scratch, source.namespace, {**job.labels, LABEL_VERIFICATION: DRILL}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata(name, namespace, labels),
           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": source.storage_class,
                    "resources": {"requests": {"storage": source.capacity}}}}
    scratch_restore = restore(unit, copy)
    scratch_restore["metadata"] = metadata(name, namespace, labels)
    # Mirror the snapshot exactly: files left from an earlier drill must not mask a partial restore.
    scratch_restore["spec"] |= {"target": {"pvcRef": {"name": name}}, "options": {"enableFileDeletion": True}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name, namespace, labels)}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(name, namespace, labels),
            "rules": [{"apiGroups": [GROUP], "resources": ["restores"], "resourceNames": [name],
                       "verbs": ["get", "delete", "watch", "list"]},
                      {"apiGroups": [GROUP], "resources": ["restores"], "verbs": ["create"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": metadata(name, namespace, labels),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}
    wait_seconds = DRILL_CHECK_DELAY_MINUTES * 60 - 300
    trigger = cronjob(
        name=object_name_of(unit.name, copy.destination, "drill-run", limit=CRONJOB_NAME_LIMIT),
        namespace=namespace, object_labels=labels,
        schedule=job.restore_at.five_field(),
        container=container("trigger", KUBECTL_IMAGE, _TRIGGER_SCRIPT,
                            {"NAMESPACE": namespace, "RESTORE": name, "WAIT_SECONDS": str(wait_seconds),
                             "RESTORE_OBJECT": json.dumps(scratch_restore, sort_keys=True)}, [], SMALL),
        volumes=[], security=pod_security(65534, 65534), deadline_seconds=wait_seconds + 120)
    pod = trigger["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["serviceAccountName"] = name
    pod["automountServiceAccountToken"] = True  # the one job that talks to the API server, as its own account
    env: dict[str, Any] = {"WINDOW_MINUTES": str(DRILL_CHECK_DELAY_MINUTES + 60)}
    if pings:
        env |= ping_env(unit, job.slug)
    check = cronjob(
        name=job.name, namespace=namespace, object_labels=labels, schedule=job.schedule.five_field(),
        container=container("check", CURL_IMAGE, _DRILL_SCRIPT, env,
                            [{"name": "restored", "mountPath": "/restored", "readOnly": True}], SMALL),
        volumes=[{"name": "restored", "persistentVolumeClaim": {"claimName": name, "readOnly": True}}],
        security=pod_security(source.run_as_user or 65534, source.run_as_group or 65534), deadline_seconds=1800)
    return [pvc, account, role, binding, trigger, check]


def unit_objects(unit: ProtectionUnit, kube: Kubernetes) -> list[dict[str, Any]]:
    """Every Kopiur object of one unit except Secrets and the drill, in dependency order."""
    objects: list[dict[str, Any]] = []
    for copy in unit.copies:
        objects.append(repository(unit, copy))
        if copy.replica_of is not None:
            objects.append(replication(unit, copy))
        else:
            objects += [snapshot_policy(unit, copy, kube), snapshot_schedule(unit, copy),
                        maintenance(unit, copy)]
        objects.append(restore(unit, copy))
    return objects


# ---------------------------------------------------------------------------------------------
# Alerts on Kopiur's own metrics (its docs/dev/observability.md, 0.10): per SnapshotPolicy
# `kopiur_snapshot_last_success_timestamp_seconds`, `kopiur_snapshot_consecutive_failures` and
# `kopiur_snapshot_verified_timestamp_seconds` (labels namespace, name = the policy); per object
# `kopiur_resource_phase{kind, namespace, name, phase}`.

CONTROLLER_METRIC = "kopiur_controller_reconciliations_total"
"""A counter the controller exports from its first reconcile: absent means no Kopiur controller is scraped."""
FAILED_FOR = "15m"


def _alert(unit: ProtectionUnit, alert: str, expr: str, kind: str, summary: str, description: str,
           for_: str | None, destination: str, severity: str, runbook: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = {"severity": severity, "dataset": unit.name, "tier": str(unit.tier), "backup_alert": kind,
                      "destination": destination}
    rule["annotations"] = {"summary": summary, "description": description, "runbook": runbook}
    return rule


def alert_rules(unit: ProtectionUnit, kinds: tuple[str, ...], severity: str, runbook: str) -> list[dict[str, Any]]:
    """The tier's alert kinds over Kopiur's metrics: failing snapshots (out-of-sync), a last success older than the
    copy's RPO and stale verification (missed-run), no success on record (never-ran); replicas: a failed
    replication."""
    source = _pvc(unit, unit.copies[0]) if unit.copies else None
    if source is None:
        return []
    rules = []
    for copy in unit.copies:
        name, interval = object_name(unit, copy), copy.schedule.interval_hours
        selector = f'namespace="{source.namespace}", name="{name}"'
        where = f"{source.namespace}/{name} ({source.claim} -> {copy.destination})"
        args = {"destination": copy.destination, "severity": severity, "runbook": runbook}
        if copy.replica_of is not None:
            if "out-of-sync" in kinds:
                rules.append(_alert(
                    unit, "KopiurReplicationFailed",
                    f'kopiur_resource_phase{{kind="RepositoryReplication", {selector}, phase="Failed"}} == 1',
                    "out-of-sync", f"{unit.name}: replication to {copy.destination} failed",
                    f"RepositoryReplication {where} failed: the offsite replica stops at its last good run. "
                    f"kubectl -n {source.namespace} describe repositoryreplication {name}", FAILED_FOR, **args))
            continue
        if "out-of-sync" in kinds:
            rules.append(_alert(
                unit, "KopiurSnapshotFailing", f"kopiur_snapshot_consecutive_failures{{{selector}}} > 0",
                "out-of-sync", f"{unit.name}: snapshots to {copy.destination} are failing",
                f"SnapshotPolicy {where}: the newest snapshots failed. kubectl -n {source.namespace} get snapshots "
                f"-l kopiur.home-operations.com/policy={name}", FAILED_FOR, **args))
        if "missed-run" in kinds:
            late = (interval + 1) * 3600
            rules.append(_alert(
                unit, "KopiurSnapshotOlderThanRpo",
                f"time() - kopiur_snapshot_last_success_timestamp_seconds{{{selector}}} > {late}", "missed-run",
                f"{unit.name}: newest snapshot at {copy.destination} is older than its {interval} h RPO",
                f"SnapshotPolicy {where} last succeeded more than {interval + 1} h ago (schedule every {interval} h, "
                "one hour to finish).", FAILED_FOR, **args))
            check = next((job for job in unit.checks if job.destination == copy.destination), None)
            if check is not None:
                stale = 2 * check.schedule.interval_hours * 3600
                rules.append(_alert(
                    unit, "KopiurVerificationLate",
                    f"time() - kopiur_snapshot_verified_timestamp_seconds{{{selector}}} > {stale}", "missed-run",
                    f"{unit.name}: repository at {copy.destination} not verified for two cycles",
                    f"SnapshotPolicy {where}: no successful quick or deep verification within twice its "
                    f"{check.schedule.interval_hours} h cadence.", FAILED_FOR, **args))
        if "never-ran" in kinds:
            grace = max(2, 2 * interval)
            rules.append(_alert(
                unit, "KopiurSnapshotNeverSucceeded",
                f"absent(kopiur_snapshot_last_success_timestamp_seconds{{{selector}}})", "never-ran",
                f"{unit.name}: no snapshot to {copy.destination} has ever succeeded",
                f"SnapshotPolicy {where} has no successful snapshot on record for {grace} h.", f"{grace}h", **args))
    return rules


def controller_rule(tier: int, datasets: list[str], severity: str) -> dict[str, Any]:
    """Without the Kopiur controller nothing snapshots and no series exists to alert on."""
    return {"alert": "KopiurControllerAbsent", "expr": f"absent({CONTROLLER_METRIC})", "for": FAILED_FOR,
            "labels": {"severity": severity, "dataset": ",".join(datasets), "tier": str(tier),
                       "backup_alert": "out-of-sync"},
            "annotations": {"summary": f"Kopiur controller is down: tier {tier} Kopiur backups are not running",
                            "description": f"No Kopiur controller metrics; unprotected until it returns: "
                                           f"{', '.join(datasets)}.",
                            "runbook": "kubectl -n kopiur-system get pods; check the controller and its "
                                       "ServiceMonitor."}}
