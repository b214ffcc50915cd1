"""Scheduled restore drills (design §4, §7): one dispatch over unit kinds, `drill(unit, pings, nas)`.

A drill restores the one copy the plan chose (`ProtectionUnit.drill`) on the tier's `drill_every_days`:

- pvc: a scratch claim filled by a ReplicationDestination from the drilled copy, then a read-only check of the
  claim (`volsync.drill_objects`).
- postgres: `pgbackrest restore` of the newest backup of the drilled repository into an emptyDir, then the data
  directory must hold `PG_VERSION`, `global/pg_control` and files (pgBackRest checks every file's checksum as it
  restores it; no server is started).
- export: the newest dump on the NAS folder the export job writes, mounted read-only. SQLite: a copy in `/tmp`
  passes `PRAGMA integrity_check` and has tables. pg_dump custom format: `pg_restore --list` shows TABLE DATA
  entries and converting the whole archive to SQL (every data block read and decompressed) succeeds.
- truenas: the NAS has no scheduler we can script safely, so a CronJob in the monitoring namespace reads the first
  offsite copy with rclone, configured from the environment exactly as TrueNAS configures its cloud sync: the
  bucket's backend (B2 natively, else S3) with the copy's read-only key, and a crypt remote over
  `<bucket>/<folder>` with standard filename encryption, the task's password and its salt as `password2`. rclone
  wants both obscured, so the job runs `rclone obscure` on the plain values from its Secret. It lists up to
  `NAS_SAMPLE_FILES` non-empty files (`rclone lsf`), downloads them into an emptyDir (`rclone copy`: crypt
  authenticates every block it decrypts), requires every one restored and non-empty, then `rclone cryptcheck`s
  them against the encrypted objects' stored hashes. It only lists and reads: never sync, move or delete.

Every drill reports to Healthchecks (`<base><copy slug>-drill`, `/fail` on failure); its time comes from the plan.
Drill CronJobs of exports carry no destination label: the pack reads a CronJob whose destination is another dataset
as that dataset's export job. The shell lives in `manifests/scripts/`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from inventory.models import ExportSource, PostgresSource, PvcSource, Truenas, TruenasSource
from manifests import dbs, exports, volsync
from manifests.checks import DEADLINE_SECONDS, NOBODY, job_ping_env, pgbackrest_job
from manifests.secrets import READER_ACCESS_KEY_ID, READER_SECRET_ACCESS_KEY, SecretRef, SecretSpec
from manifests.workloads import (
    DUMP,
    PG_DUMP_IMAGE,
    PING_FUNCTION,
    RCLONE_IMAGE,
    SQLITE_IMAGE,
    VERIFY,
    container,
    cronjob,
    pod_security,
    script,
)
from plan.model import CopyPlan
from plan.units import ProtectionUnit, VerificationJob

NAS_SAMPLE_FILES = 20
"""Files a NAS drill restores: several folders' worth, still only minutes of download."""
NAS_SAMPLE_MAX_MIB = 128
"""Largest (decrypted) file a NAS drill picks, so photo and video libraries still fit a small scratch volume."""
NAS_LIST_DEPTH = 4
"""Folder levels a NAS drill lists below the copy's root (rclone `--max-depth`)."""
NAS_SCRATCH_SIZE = f"{math.ceil(NAS_SAMPLE_FILES * NAS_SAMPLE_MAX_MIB / 1024) + 1}Gi"
"""The whole sample at its largest, plus room for rclone's partial files."""
ENCRYPTION_PASSWORD = SecretRef("encryption_password")
"""rclone crypt `password` of one TrueNAS cloud sync task, plain (the drill obscures it for rclone)."""
ENCRYPTION_SALT = SecretRef("encryption_salt")
"""rclone crypt `password2` of that task (TrueNAS calls it the salt), plain."""
S3_PROVIDERS = {"s3": "AWS", "r2": "Cloudflare"}
"""rclone S3 `provider` per destination kind; other S3 servers are `Other`."""

_PGBACKREST_DRILL = PING_FUNCTION + script("pgbackrest-drill")
_NEWEST_DUMP = PING_FUNCTION + script("newest-dump")
_SQLITE_DRILL = _NEWEST_DUMP + script("sqlite-drill")
# `--list` reads only the archive's table of contents; writing the whole archive out as SQL reads every block.
_PG_DUMP_DRILL = _NEWEST_DUMP + script("pg-dump-drill")
# Listing stops once `head` has its sample (rclone dies on the closed pipe), so a large dataset lists quickly; the
# exit status is lost with it, so an empty sample is the failure signal and the log says why. `--files-from-raw`
# takes names literally (`--files-from` would drop names starting with `#` or `;` as comments).
_NAS_DRILL = PING_FUNCTION + script("nas-drill")


@dataclass(frozen=True)
class Drill:
    """The objects of one unit's restore drill."""

    copy: CopyPlan
    """The copy the drill restores (the plan's choice)."""
    objects: tuple[dict[str, Any], ...]
    """Kubernetes objects: the drill CronJob (VolSync: also the scratch claim and its ReplicationDestination)."""
    secret: SecretSpec | None = None
    """NAS drills: the Secret with the task's password and salt and the copy's read-only key (references only)."""

    @property
    def cronjob(self) -> dict[str, Any]:
        """The CronJob that runs (VolSync: the check of the scratch restore) and pings."""
        return next(o for o in self.objects if o["kind"] == "CronJob")


def _scratch_size(unit: ProtectionUnit) -> str:
    """Room for a restored copy: twice the declared size, so growth since it was declared still fits."""
    return f"{max(1, math.ceil(unit.size_gb * 2))}Gi"


def _pgbackrest_drill(unit: ProtectionUnit, source: PostgresSource, job: VerificationJob,
                      pings: bool) -> dict[str, Any]:
    return pgbackrest_job(
        unit, source, job, _PGBACKREST_DRILL, pings,
        [{"name": "scratch", "emptyDir": {"sizeLimit": _scratch_size(unit)}}],
        [{"name": "scratch", "mountPath": "/scratch"}],
    )


def _export_drill(unit: ProtectionUnit, source: ExportSource, job: VerificationJob, nas: Truenas,
                  pings: bool) -> dict[str, Any]:
    """Reads the folder the export job writes, through its NFS volume and as its identity."""
    export = unit.plan.export
    if export is None:
        raise ValueError(f"dataset plan {unit.name!r} has no export")
    dump_job = exports.export_cronjob(unit, nas=nas, pings=pings)
    pod = dump_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    export_env = {e["name"]: e.get("value") for e in (pod.get("initContainers") or pod["containers"])[0]["env"]}
    nfs = next(v["nfs"] for v in pod["volumes"] if v["name"] == "backup")
    if export.engine in dbs.ENGINES:
        return dbs.drill_cronjob(unit, source, job, dumps=export_env["OUT"] or "", nfs=nfs,
                                 ping=job_ping_env(unit, pings, job), security=pod["securityContext"],
                                 deadline_seconds=DEADLINE_SECONDS, tmp_size=_scratch_size(unit))
    env: dict[str, Any] = {"DUMPS": export_env["OUT"], "PREFIX": unit.name, "EXT": exports.EXTENSIONS[export.engine]}
    env |= job_ping_env(unit, pings, job)
    image, script = (SQLITE_IMAGE, _SQLITE_DRILL) if export.engine == "sqlite" else (PG_DUMP_IMAGE, _PG_DUMP_DRILL)
    return cronjob(
        name=job.name,
        namespace=source.namespace,
        object_labels=job.labels,
        schedule=job.schedule.five_field(),
        container=container(export.engine.replace("_", "-"), image, script, env,
                            [{"name": "backup", "mountPath": "/backup", "readOnly": True}], DUMP),
        volumes=[{"name": "backup", "nfs": {**nfs, "readOnly": True}}],
        security=pod["securityContext"],
        deadline_seconds=DEADLINE_SECONDS,
        tmp_size=_scratch_size(unit),
    )


def _rclone_env(copy: CopyPlan, secret: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """rclone remotes `offsite` (the bucket's backend) and `drill` (crypt over the copy's folder), from variables.

    Mirrors TrueNAS's cloud sync configuration (`components.truenas.cloud_provider`, middleware RcloneConfig), so
    the drill decrypts what the task encrypted. Returns (plain values, Secret-referencing env entries).
    """
    def ref(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

    plain = {"RCLONE_CONFIG_OFFSITE_TYPE": "b2" if copy.kind == "b2" else "s3"}
    if copy.kind == "b2":
        secret_env = [ref("RCLONE_CONFIG_OFFSITE_ACCOUNT", "ACCESS_KEY_ID"),
                      ref("RCLONE_CONFIG_OFFSITE_KEY", "SECRET_ACCESS_KEY")]
    else:
        plain["RCLONE_CONFIG_OFFSITE_PROVIDER"] = S3_PROVIDERS.get(copy.kind, "Other")
        if copy.region:
            plain["RCLONE_CONFIG_OFFSITE_REGION"] = copy.region
        if copy.kind != "s3":
            plain["RCLONE_CONFIG_OFFSITE_ENDPOINT"] = copy.endpoint
        secret_env = [ref("RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID", "ACCESS_KEY_ID"),
                      ref("RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY", "SECRET_ACCESS_KEY")]
    plain |= {
        "RCLONE_CONFIG_DRILL_TYPE": "crypt",
        "RCLONE_CONFIG_DRILL_REMOTE": f"offsite:{copy.bucket}/{copy.repository.strip('/')}",
        "RCLONE_CONFIG_DRILL_FILENAME_ENCRYPTION": "standard",
        "RCLONE_CONFIG_DRILL_DIRECTORY_NAME_ENCRYPTION": "true",
    }
    secret_env += [ref("ENCRYPTION_PASSWORD", "ENCRYPTION_PASSWORD"), ref("ENCRYPTION_SALT", "ENCRYPTION_SALT")]
    return plain, secret_env


def _nas_drill(unit: ProtectionUnit, job: VerificationJob, pings: bool) -> Drill:
    """The drill of a TrueNAS dataset's drilled copy (its first offsite copy), run in the unit's namespace (NAS
    datasets have no app namespace)."""
    copy = next(c for c in unit.copies if c.destination == job.destination)
    if copy.tool != "cloudsync" or not copy.bucket:
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a cloud sync copy in a bucket")
    assert job.secret is not None and unit.namespace is not None  # the plan names both for NAS drills
    secret = SecretSpec(
        name=job.secret,
        namespace=unit.namespace,
        labels=job.labels,
        data={"ENCRYPTION_PASSWORD": ENCRYPTION_PASSWORD, "ENCRYPTION_SALT": ENCRYPTION_SALT,
              "ACCESS_KEY_ID": READER_ACCESS_KEY_ID, "SECRET_ACCESS_KEY": READER_SECRET_ACCESS_KEY},
    )
    plain, secret_env = _rclone_env(copy, secret.name)
    env = {
        # In-memory configuration: every remote comes from the variables, nothing is written.
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CACHE_DIR": "/tmp/rclone-cache",
        **plain,
        "SAMPLE_FILES": str(NAS_SAMPLE_FILES),
        "MAX_SIZE": f"{NAS_SAMPLE_MAX_MIB}M",
        "LIST_DEPTH": str(NAS_LIST_DEPTH),
        **job_ping_env(unit, pings, job),
    }
    cron = cronjob(
        name=job.name,
        namespace=unit.namespace,
        object_labels=job.labels,
        schedule=job.schedule.five_field(),
        container=container("rclone", RCLONE_IMAGE, _NAS_DRILL, env,
                            [{"name": "scratch", "mountPath": "/scratch"}], VERIFY, secret_env),
        volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": NAS_SCRATCH_SIZE}}],
        security=pod_security(NOBODY, NOBODY),
        deadline_seconds=DEADLINE_SECONDS,
    )
    return Drill(copy, (cron,), secret)


def drill(unit: ProtectionUnit, pings: bool, nas: Truenas | None = None) -> Drill | None:
    """The unit's planned restore drill (`ProtectionUnit.drill`), one dispatch over kinds; None when the plan has
    none (the tier asks for none, or no copy can be drilled). Exports read their dumps over NFS: pass `nas`."""
    job = unit.drill
    if job is None:
        return None
    copy = next(c for c in unit.copies if c.destination == job.destination)
    source = unit.source
    if isinstance(source, PvcSource):
        return Drill(copy, tuple(volsync.drill_objects(unit, pings)))
    if isinstance(source, PostgresSource):
        return Drill(copy, (_pgbackrest_drill(unit, source, job, pings),))
    if isinstance(source, ExportSource):
        if nas is None:
            raise ValueError(f"{unit.name}: an export drill reads the dumps over NFS; pass the inventory's truenas")
        return Drill(copy, (_export_drill(unit, source, job, nas, pings),))
    if isinstance(source, TruenasSource):
        return _nas_drill(unit, job, pings)
    raise TypeError(f"{unit.name}: no restore drill for {source.kind} datasets yet")
