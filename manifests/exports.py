"""App-consistent dump CronJobs for the "TrueNAS as hub" pattern: the dump lands in a NAS dataset whose own
snapshots and cloud sync tasks then carry it offsite.

- `pg_dump`: custom-format dump of one database (a consistent snapshot by construction), checked with
  `pg_restore --list` before it replaces anything.
- `sqlite`: the online backup API (`.backup`) on the app's claim mounted read-only, then `PRAGMA integrity_check`.
  For a WAL-mode database the app keeps `-wal`/`-shm` beside it, which SQLite reads through on read-only media.
  A ReadWriteOnce claim can only be mounted on the node that runs the app: schedule accordingly.

Each run writes `<dataset>-<UTC stamp>.<ext>` under `<NAS dataset>/<dataset>/` via a temporary name, keeps the
newest `keep` dumps and deletes older ones with the same prefix only. The NAS dataset must be shared over NFS
to the cluster and writable by the job's uid.
"""

from __future__ import annotations

import posixpath
from typing import Any

from inventory.models import ExportSource, Truenas
from manifests import dbs
from manifests.healthchecks import ping_env
from manifests.workloads import DUMP, PG_DUMP_IMAGE, PING_FUNCTION, SQLITE_IMAGE, container, cronjob, pod_security
from plan.model import ExportPlan
from plan.units import ProtectionUnit

DEADLINE_SECONDS = 3 * 3600
EXTENSIONS = {"pg_dump": "dump", "sqlite": "sqlite3", **dbs.EXTENSIONS}

_ROTATE_AND_REPORT = """
  part="$OUT/.$PREFIX-$stamp.{ext}.partial"
  trap 'rm -f "$part"' EXIT
  cp "$work" "$part"
  mv "$part" "$OUT/$PREFIX-$stamp.{ext}"
  ls -1 "$OUT" | grep "^$PREFIX-[0-9]\\{{8\\}}T[0-9]\\{{6\\}}Z\\.{ext}$" | sort -r | tail -n +$((KEEP + 1)) |
    while read -r old; do rm -f "$OUT/$old"; done
)
status=$?
kept=$(ls -1 "$OUT" 2>/dev/null | grep -c "^$PREFIX-.*\\.{ext}$")
if [ "$status" -eq 0 ]; then ping "" "{engine} export ok: $PREFIX-$stamp.{ext}, $kept kept"
else ping /fail "{engine} export failed with status $status"; fi
exit "$status"
"""

_PG_DUMP = """
stamp=$(date -u +%Y%m%dT%H%M%SZ)
( set -e
  mkdir -p "$OUT"
  work="/work/$PREFIX-$stamp.dump"
  pg_dump --format=custom --no-password --file="$work"
  pg_restore --list "$work" >/dev/null
"""

_SQLITE = """
stamp=$(date -u +%Y%m%dT%H%M%SZ)
( set -e
  mkdir -p "$OUT"
  work="/work/$PREFIX-$stamp.sqlite3"
  sqlite3 "file:/data/$SQLITE_PATH?mode=ro" ".backup '$work'"
  test "$(sqlite3 "$work" 'PRAGMA integrity_check;')" = ok
"""


def _export(unit: ProtectionUnit) -> tuple[ExportSource, ExportPlan]:
    source = unit.source
    if not isinstance(source, ExportSource):
        raise TypeError(f"{unit.name}: export CronJobs serve export datasets, not {source.kind}")
    if unit.plan.export is None:
        raise ValueError(f"dataset plan {unit.name!r} has no export")
    return source, unit.plan.export


def dump_slug(unit: ProtectionUnit) -> str:
    """The Healthchecks slug the dump job pings: its first copy's, the dump on the NAS (its drill pings
    `<slug>-drill`)."""
    return unit.objects[0].backup_slug


def _script(engine: str) -> str:
    body = _PG_DUMP if engine == "pg_dump" else _SQLITE
    ext = EXTENSIONS[engine]
    return PING_FUNCTION + body + _ROTATE_AND_REPORT.format(ext=ext, engine=engine)


def nfs_host(nas: Truenas) -> str:
    """The name pods mount NAS exports by: `nfs_host` when given, else the API host without its port."""
    return nas.nfs_host or nas.host.rsplit(":", 1)[0]


def _sqlite_path(ds: ProtectionUnit, path: str) -> str:
    if path.startswith("/") or ".." in path.split("/") or any(c in path for c in "'\"?#$`\\"):
        raise ValueError(f"{ds.name}: sqlite_path {path!r} must be a plain path relative to the claim's root")
    return path


def export_cronjob(
    ds: ProtectionUnit,
    *,
    nas: Truenas,
    pings: bool = False,
    run_as_user: int = 1000,
    run_as_group: int = 1000,
) -> dict[str, Any]:
    """The dump CronJob of one export dataset, writing over NFS into its target NAS dataset on the plan's slot."""
    source, export = _export(ds)
    nfs_server = nfs_host(nas)
    dataset_root = posixpath.dirname(export.target_path)
    out = posixpath.join("/backup", posixpath.basename(export.target_path))
    env: dict[str, Any] = {"OUT": out, "PREFIX": ds.name, "KEEP": str(export.keep)}
    if pings:
        env |= ping_env(ds, dump_slug(ds))
    mounts: list[dict[str, Any]] = [
        {"name": "backup", "mountPath": "/backup"},
        {"name": "work", "mountPath": "/work"},
    ]
    # The NAS dataset itself is the NFS share; the per-export folder inside it is created on first run.
    volumes: list[dict[str, Any]] = [
        {"name": "backup", "nfs": {"server": nfs_server, "path": dataset_root}},
        {"name": "work", "emptyDir": {}},
    ]
    if export.engine in dbs.ENGINES:
        return dbs.dump_cronjob(ds, source, out=out, nfs={"server": nfs_server, "path": dataset_root}, pings=pings,
                                slug=dump_slug(ds), security=pod_security(run_as_user, run_as_group),
                                deadline_seconds=DEADLINE_SECONDS)
    secret_env: list[dict[str, Any]] = []
    if export.engine == "pg_dump":
        image = PG_DUMP_IMAGE
        env["PGHOST"] = source.database_host or ""
        env["PGDATABASE"] = source.database_name or ""
        secret_env = [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": source.credentials_secret, "key": key}}}
            for key in ("PGUSER", "PGPASSWORD")
        ]
    elif export.engine == "sqlite":
        image = SQLITE_IMAGE
        env["SQLITE_PATH"] = _sqlite_path(ds, source.sqlite_path or "")
        mounts.append({"name": "data", "mountPath": "/data", "readOnly": True})
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": source.sqlite_claim, "readOnly": True}})
    else:
        raise ValueError(f"{ds.name}: unknown export engine {export.engine!r}")
    return cronjob(
        name=ds.export_job or "",
        namespace=source.namespace,
        object_labels=ds.objects[0].labels,
        schedule=export.schedule.five_field(),
        container=container(export.engine.replace("_", "-"), image, _script(export.engine), env, mounts, DUMP,
                            secret_env),
        volumes=volumes,
        security=pod_security(run_as_user, run_as_group),
        deadline_seconds=DEADLINE_SECONDS,
    )
