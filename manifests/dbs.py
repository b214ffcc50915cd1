"""Dump CronJobs and their restore drills for MySQL/MariaDB, MongoDB and Redis, beside pg_dump and sqlite.

- `mysqldump` / `mariadb-dump`: `--single-transaction` (one consistent InnoDB snapshot without locking the
  tables), `--quick` (rows streamed, not buffered), routines, triggers, events, `--hex-blob`, no tablespaces (which
  would need the PROCESS privilege), utf8mb4; `--databases` so the dump recreates its database. The user and
  password reach the tool through an option file in the job's scratch space. A dump counts only when it ends with
  the tool's `-- Dump completed` trailer. Plain SQL: the NAS dataset's ZFS compression shrinks it.
- `mongodump`: `--archive --gzip` (one file), `--oplog` on a replica set member (a point-in-time dump of the
  whole instance); the URI (with its password) goes in a `--config` file. A dump counts when it decompresses
  completely and starts with the archive format's magic number.
- `redis`: `BGSAVE SCHEDULE`, then the RDB file is copied from the server's claim (mounted read-only) once
  `LASTSAVE` has advanced past its value before the save and `rdb_last_bgsave_status` is ok; `redis-check-rdb`
  must accept the copy. Like sqlite, a ReadWriteOnce claim is only mountable on the node running the server.

The database images carry neither curl nor wget, so the dump (and the drill) run as the pod's init container and
write their status and message into the shared scratch volume; a small reporter container (`CURL_IMAGE`) pings
Healthchecks with them and exits with the dump's status, so a failed dump still fails the Job and pings `/fail`.
Rotation is the same as pg_dump's: `<dataset>-<UTC stamp>.<ext>` via a temporary name, the newest `keep` kept.
"""

from __future__ import annotations

from typing import Any

from inventory.models import ExportSource
from manifests.healthchecks import ping_env
from manifests.workloads import (
    CURL_IMAGE,
    DUMP,
    MARIADB_IMAGE,
    MONGO_IMAGE,
    MYSQL_IMAGE,
    PING_FUNCTION,
    REDIS_IMAGE,
    SMALL,
    container,
    cronjob,
    script,
)
from plan.units import ProtectionUnit, VerificationJob

ENGINES = ("mysqldump", "mariadb-dump", "mongodump", "redis")
"""The engines this module renders (pg_dump and sqlite live in `manifests.exports`)."""
EXTENSIONS = {"mysqldump": "sql", "mariadb-dump": "sql", "mongodump": "archive.gz", "redis": "rdb"}
IMAGES = {"mysqldump": MYSQL_IMAGE, "mariadb-dump": MARIADB_IMAGE, "mongodump": MONGO_IMAGE, "redis": REDIS_IMAGE}
DEFAULT_PORTS = {"mysqldump": 3306, "mariadb-dump": 3306, "redis": 6379}
REDIS_WAIT_SECONDS = 1800
"""How long a Redis export waits for its BGSAVE to finish (a large dataset forks and writes for minutes)."""
WORK = {"name": "work", "emptyDir": {}}
"""Scratch shared by the dump (or drill) container and the reporter: the dump itself, its status and message."""

_BODIES = {"mysqldump": "mysql-dump", "mariadb-dump": "mysql-dump", "mongodump": "mongo-dump", "redis": "redis-dump"}
_DRILLS = {"mysqldump": "mysql-drill", "mariadb-dump": "mysql-drill", "mongodump": "mongo-drill",
           "redis": "redis-drill"}


def dump_script(engine: str) -> str:
    """What the dump container runs: dump, check, rotate, then record status and message (no ping)."""
    return script(_BODIES[engine]) + script("dump-tail")


def drill_script(engine: str) -> str:
    """What the drill container runs: find the newest dump, check it reads back, record the result (no ping)."""
    return script("dump-drill-head") + script(_DRILLS[engine])


REPORT_SCRIPT = PING_FUNCTION + script("dump-report")
"""The reporter: ping with the recorded message (`/fail` unless the status is 0), exit with that status."""


def _engine_env(source: ExportSource) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Plain variables and Secret-referencing ones of the dump container."""
    engine = source.engine

    def ref(key: str, optional: bool = False) -> dict[str, Any]:
        selector: dict[str, Any] = {"name": source.credentials_secret, "key": key}
        if optional:
            selector["optional"] = True
        return {"name": key, "valueFrom": {"secretKeyRef": selector}}

    if engine in ("mysqldump", "mariadb-dump"):
        env = {"DUMP_TOOL": engine, "MYSQL_HOST": source.database_host or "",
               "MYSQL_PORT": str(source.database_port or DEFAULT_PORTS[engine]),
               "MYSQL_DATABASE": source.database_name or ""}
        return env, [ref("MYSQL_USER"), ref("MYSQL_PASSWORD")]
    if engine == "mongodump":
        env = {"MONGO_DATABASE": source.database_name or "", "MONGO_OPLOG": "1" if source.oplog else ""}
        return env, [ref("MONGODB_URI")]
    if engine == "redis":
        env = {"REDIS_HOST": source.database_host or "", "REDIS_PORT": str(source.database_port or 6379),
               "RDB_PATH": source.rdb_path or "dump.rdb", "REDIS_WAIT_SECONDS": str(REDIS_WAIT_SECONDS)}
        return env, [ref("REDISCLI_AUTH")] if source.credentials_secret else []
    raise ValueError(f"{engine!r} is not one of {ENGINES}")


def _with_reporter(job: dict[str, Any], worker: dict[str, Any]) -> dict[str, Any]:
    """Run `worker` as the pod's init container, before the reporter the CronJob was built with."""
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["initContainers"] = [worker]
    return job


def _reporter(env: dict[str, Any]) -> dict[str, Any]:
    return container("report", CURL_IMAGE, REPORT_SCRIPT, env, [{"name": "work", "mountPath": "/work"}], SMALL)


def dump_cronjob(unit: ProtectionUnit, source: ExportSource, *, out: str, nfs: dict[str, str], pings: bool,
                 slug: str, security: dict[str, Any], deadline_seconds: int) -> dict[str, Any]:
    """The dump CronJob of a MySQL/MariaDB, MongoDB or Redis export, on the plan's slot."""
    export = unit.plan.export
    if export is None:
        raise ValueError(f"dataset plan {unit.name!r} has no export")
    engine = source.engine
    env, secret_env = _engine_env(source)
    env = {"OUT": out, "PREFIX": unit.name, "KEEP": str(export.keep), "EXT": EXTENSIONS[engine], "ENGINE": engine,
           **env}
    mounts: list[dict[str, Any]] = [{"name": "backup", "mountPath": "/backup"}, {"name": "work", "mountPath": "/work"}]
    volumes: list[dict[str, Any]] = [{"name": "backup", "nfs": nfs}, WORK]
    if engine == "redis":
        mounts.append({"name": "data", "mountPath": "/data", "readOnly": True})
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": source.rdb_claim, "readOnly": True}})
    worker = container(engine, IMAGES[engine], dump_script(engine), env, mounts, DUMP, secret_env)
    report_env = ping_env(unit, slug) if pings else {}
    job = cronjob(
        name=unit.export_job or "",
        namespace=source.namespace,
        object_labels=unit.objects[0].labels,
        schedule=export.schedule.five_field(),
        container=_reporter(report_env),
        volumes=volumes,
        security=security,
        deadline_seconds=deadline_seconds,
    )
    return _with_reporter(job, worker)


def drill_cronjob(unit: ProtectionUnit, source: ExportSource, job: VerificationJob, *, dumps: str,
                  nfs: dict[str, str], ping: dict[str, Any], security: dict[str, Any], deadline_seconds: int,
                  tmp_size: str) -> dict[str, Any]:
    """The restore drill of such an export: the newest dump in the NAS folder, mounted read-only, must read back."""
    engine = source.engine
    env = {"DUMPS": dumps, "PREFIX": unit.name, "EXT": EXTENSIONS[engine]}
    mounts = [{"name": "backup", "mountPath": "/backup", "readOnly": True}, {"name": "work", "mountPath": "/work"}]
    worker = container(engine, IMAGES[engine], drill_script(engine), env, mounts, DUMP)
    built = cronjob(
        name=job.name,
        namespace=source.namespace,
        object_labels=job.labels,
        schedule=job.schedule.five_field(),
        container=_reporter(ping),
        volumes=[{"name": "backup", "nfs": {**nfs, "readOnly": True}}, WORK],
        security=security,
        deadline_seconds=deadline_seconds,
        tmp_size=tmp_size,
    )
    return _with_reporter(built, worker)

