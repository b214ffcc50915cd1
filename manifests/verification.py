"""Scheduled proof that backups read back: repository integrity checks and restore drills (design §4, §7).

Integrity checks run on the tier's `verify_every_days`, one CronJob per copy, with that copy's own repository
Secret, and never change the backed-up data:

- restic: `restic check --read-data-subset=<n>%` verifies the repository structure and reads a random n% of the
  data packs. It holds restic's exclusive lock while it runs (`--retry-lock` waits out a running backup or prune),
  so an NFS repository is mounted writable for the lock file only.
- kopia: `kopia repository connect --readonly` with the Secret's settings (the fork mover's connect logic: bucket
  and prefix from `KOPIA_REPOSITORY`, endpoint, region, TLS), then `kopia snapshot verify --verify-files-percent=<n>`,
  which checks that every snapshot's contents exist and downloads n% of the files. NFS is mounted read-only.
- pgBackRest: `pgbackrest verify` of one repository (checksums of every backup file and WAL segment), configured
  from the same `PGBACKREST_REPO<n>_*` settings as the Stanza. It exits 0 even when it finds damage, so the job
  reads the verdict (`status: ok`) from its text report.

Restore drills run on the tier's `drill_every_days` for sources VolSync's `drill_objects` does not cover:

- postgres: `pgbackrest restore` of the newest backup of the first repository into an emptyDir, then the data
  directory must hold `PG_VERSION`, `global/pg_control` and files (pgBackRest checks every file's checksum as it
  restores it; no server is started).
- export: the newest dump on the NAS folder the export job writes, mounted read-only. SQLite: a copy in `/tmp`
  passes `PRAGMA integrity_check` and has tables. pg_dump custom format: `pg_restore --list` shows TABLE DATA
  entries and converting the whole archive to SQL (every data block read and decompressed) succeeds.
- truenas: the NAS has no scheduler we can script safely, so a CronJob in the monitoring namespace reads the first
  offsite copy with rclone, configured from the environment exactly as TrueNAS configures its cloud sync: the
  bucket's backend (B2 natively, else S3) with the writer's scoped key, and a crypt remote over `<bucket>/<folder>`
  with standard filename encryption, the task's password and its salt as `password2`. rclone wants both obscured,
  so the job runs `rclone obscure` on the plain values from its Secret. It lists up to `NAS_SAMPLE_FILES` non-empty
  files (`rclone lsf`), downloads them into an emptyDir (`rclone copy`: crypt authenticates every block it
  decrypts), requires every one restored and non-empty, then `rclone cryptcheck`s them against the encrypted
  objects' stored hashes. It only lists and reads: never sync, move or delete.

Every job reports to Healthchecks (`<base><copy slug>-check` / `-drill`, `/fail` on failure), is labelled
`backup.homelab/verification: check|drill` for the policy pack, and starts at a deterministic slot: offset from the
middle of the copy's backup interval (where VolSync puts repository maintenance), on a hashed weekday for weekly
cadences (7..27 days) or a hashed day 2..27 for monthly ones (28 days or more; a monthly gap reaches 31 days, the
pack's bound). Drill CronJobs of exports carry no destination label: the pack reads a CronJob whose destination
is another dataset as that dataset's export job.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from inventory.models import Dataset, ExportSource, PostgresSource, PvcSource, Truenas, TruenasSource
from manifests import exports, pgbackrest, volsync
from manifests.healthchecks import ping_env
from manifests.meta import CRONJOB_NAME_LIMIT, labels, object_name
from manifests.secrets import READER_ACCESS_KEY_ID, READER_SECRET_ACCESS_KEY, SecretRef, SecretSpec
from manifests.workloads import (
    DUMP,
    KOPIA_IMAGE,
    PG_DUMP_IMAGE,
    PGBACKREST_IMAGE,
    PGBACKREST_UID,
    PING_FUNCTION,
    RCLONE_IMAGE,
    RESTIC_IMAGE,
    SQLITE_IMAGE,
    VERIFY,
    container,
    cronjob,
    pod_security,
)
from plan.cron import DAY_MINUTES, Cron
from plan.model import CopyPlan, DatasetPlan

LABEL_VERIFICATION = "backup.homelab/verification"
CHECK = "check"
DRILL = "drill"

READ_PERCENT = 10
"""Share of the data a check downloads: weekly runs read each pack about every ten weeks on average."""
RETRY_LOCK = "30m"
"""How long a restic check waits for a backup or prune holding the repository lock."""
CHECK_OFFSET_MINUTES = 120
"""Checks start two hours after the middle of the backup interval, clear of repository maintenance."""
DRILL_OFFSET_MINUTES = 60
"""Drills start an hour after the middle of the backup interval (the slot VolSync drills use too)."""
DEADLINE_SECONDS = 4 * 3600
KOPIA_CACHE_LIMIT_MB = 1024
"""Hard limit of each kopia cache (contents, metadata); the check's `/tmp` holds both with room to spare."""
KOPIA_TMP_SIZE = "3Gi"
NOBODY = 65534
"""Identity of jobs on repositories written by root movers (as volsync.drill_objects does)."""
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


# ---------------------------------------------------------------------------------------------
# Schedules and metadata


def _slot_minute(backups: Cron, offset: int) -> int:
    """`offset` minutes after the middle of the first backup interval (volsync.maintenance_schedule's slot)."""
    return (backups.minute_of_day + backups.every_hours * 30 + offset) % DAY_MINUTES


def schedule(minute_of_day: int, every_days: int, seed: str) -> str:
    """5-field cron at `minute_of_day`: a hashed day 2..27 from 28 days, a hashed weekday from 7, else daily."""
    if every_days < 1:
        raise ValueError(f"{seed}: a cadence of {every_days} days schedules nothing")
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    dom = str(2 + digest % 26) if every_days >= 28 else "*"
    dow = str(digest % 7) if 7 <= every_days < 28 else "*"
    return f"{minute_of_day % 60} {minute_of_day // 60} {dom} * {dow}"


def _labels(ds: Dataset, role: str, destination: str | None = None) -> dict[str, str]:
    return {**labels(ds.name, ds.tier, destination), LABEL_VERIFICATION: role}


def _scratch_size(ds: Dataset) -> str:
    """Room for a restored copy: twice the declared size, so growth since it was declared still fits."""
    return f"{max(1, math.ceil(ds.size_gb * 2))}Gi"


def _ping_env(ds: Dataset, pings: bool, slug: str, role: str) -> dict[str, Any]:
    return ping_env(ds, f"{slug}-{role}") if pings else {}


def _check_plan(ds: Dataset, dataset_plan: DatasetPlan) -> None:
    if dataset_plan.name != ds.name:
        raise ValueError(f"dataset plan {dataset_plan.name!r} does not describe {ds.name!r}")


# ---------------------------------------------------------------------------------------------
# Scripts


def _report(passed: str, failed: str, verdict: str = "") -> str:
    """Script tail: show the log, then ping success when the tool exited 0 (and `verdict` holds), else `/fail`."""
    condition = '[ "$status" -eq 0 ]' + (f" && {verdict}" if verdict else "")
    return f"""
status=$?
cat /tmp/verify.log
if {condition}; then
  msg="{passed}"
  echo "$msg"; ping "" "$msg"; exit 0
fi
ping /fail "{failed} (exit $status): $(tail -n 40 /tmp/verify.log)"
exit 1
"""


_RESTIC_CHECK = PING_FUNCTION + r"""
restic --cache-dir=/tmp/cache ${CA_FILE:+--cacert="$CA_FILE"} --retry-lock="$RETRY_LOCK" check \
  --read-data-subset="$READ_PERCENT%" \
  >/tmp/verify.log 2>&1""" + _report("restic check passed, $READ_PERCENT% of the data read", "restic check failed")

_KOPIA_CHECK = PING_FUNCTION + r"""
case "$KOPIA_REPOSITORY" in
  s3://*)
    rest=${KOPIA_REPOSITORY#s3://}; bucket=${rest%%/*}; prefix=${rest#"$bucket"}; prefix=${prefix#/}
    set -- s3 --bucket="$bucket" --endpoint="${KOPIA_S3_ENDPOINT:-s3.amazonaws.com}"
    if [ -n "${AWS_REGION:-}" ]; then set -- "$@" --region="$AWS_REGION"; fi
    if [ -n "$prefix" ]; then set -- "$@" --prefix="${prefix%/}/"; fi
    if [ "${KOPIA_S3_DISABLE_TLS:-}" = true ]; then set -- "$@" --disable-tls; fi
    if [ -n "${CA_FILE:-}" ]; then set -- "$@" --root-ca-pem-path="$CA_FILE"; fi ;;
  filesystem://*) set -- filesystem --path="${KOPIA_REPOSITORY#filesystem://}" ;;
  *) msg="kopia check failed: KOPIA_REPOSITORY is neither s3:// nor filesystem://"
     echo "$msg" >&2; ping /fail "$msg"; exit 1 ;;
esac
{ kopia repository connect "$@" --readonly --content-cache-size-limit-mb="$CACHE_LIMIT_MB" \
    --metadata-cache-size-limit-mb="$CACHE_LIMIT_MB" &&
  kopia snapshot verify --verify-files-percent="$READ_PERCENT"; } >/tmp/verify.log 2>&1""" + _report(
    "kopia snapshot verify passed, $READ_PERCENT% of the files read", "kopia check failed")

# pgBackRest verify exits 0 even when it finds damage (src/command/verify/verify.c, cmdVerify): the verdict is the
# `status:` line of its text report, which --verbose prints for a healthy repository too.
_PGBACKREST_CHECK = PING_FUNCTION + r"""
pgbackrest --stanza="$STANZA" --repo="$REPO" verify --output=text --verbose >/tmp/verify.log 2>&1""" + _report(
    "pgbackrest verify of repo $REPO passed", "pgbackrest verify of repo $REPO failed",
    verdict="grep -qx 'status: ok' /tmp/verify.log && ! grep -q 'no archives or backups exist' /tmp/verify.log")

_PGBACKREST_DRILL = PING_FUNCTION + r"""
pgbackrest --stanza="$STANZA" --repo=1 --pg1-path=/scratch/pgdata --tablespace-map-all=/scratch/tablespaces \
  restore >/tmp/verify.log 2>&1
status=$?
cat /tmp/verify.log
files=$(find /scratch/pgdata -type f 2>/dev/null | wc -l)
if [ "$status" -eq 0 ] && [ -s /scratch/pgdata/PG_VERSION ] && [ -f /scratch/pgdata/global/pg_control ] \
    && [ "$files" -gt 0 ]; then
  msg="restore drill passed: PostgreSQL $(cat /scratch/pgdata/PG_VERSION) data directory, $files files"
  echo "$msg"; ping "" "$msg"; exit 0
fi
ping /fail "restore drill failed (exit $status, $files files): $(tail -n 30 /tmp/verify.log)"
exit 1
"""

_NEWEST_DUMP = PING_FUNCTION + r"""
fail() { echo "$1" >&2; ping /fail "$1"; exit 1; }
newest=$(ls -1 "$DUMPS" 2>/dev/null | grep "^$PREFIX-[0-9]\{8\}T[0-9]\{6\}Z\.$EXT$" | sort | tail -n 1)
[ -n "$newest" ] || fail "restore drill failed: no $PREFIX-*.$EXT dump in $DUMPS"
"""

_SQLITE_DRILL = _NEWEST_DUMP + r"""
cp "$DUMPS/$newest" /tmp/restored.sqlite3 || fail "restore drill failed: cannot copy $newest"
check=$(sqlite3 /tmp/restored.sqlite3 'PRAGMA integrity_check;' 2>&1)
[ "$check" = ok ] || fail "restore drill failed: $newest integrity_check: $(echo "$check" | head -n 5)"
tables=$(sqlite3 /tmp/restored.sqlite3 "SELECT count(*) FROM sqlite_master WHERE type = 'table';" 2>&1)
[ "$tables" -ge 1 ] 2>/dev/null || fail "restore drill failed: $newest has no tables ($tables)"
msg="restore drill passed: $newest is intact, $tables tables"
echo "$msg"; ping "" "$msg"
"""

# `--list` reads only the archive's table of contents; writing the whole archive out as SQL reads every block.
_PG_DUMP_DRILL = _NEWEST_DUMP + r"""
pg_restore --list "$DUMPS/$newest" >/tmp/toc.txt 2>/tmp/restore.err \
  || fail "restore drill failed: pg_restore --list $newest: $(tail -n 5 /tmp/restore.err)"
data=$(grep -c ' TABLE DATA ' /tmp/toc.txt)
[ "$data" -ge 1 ] || fail "restore drill failed: $newest lists no TABLE DATA entries"
pg_restore --file=/dev/null "$DUMPS/$newest" 2>/tmp/restore.err \
  || fail "restore drill failed: $newest does not read back: $(tail -n 5 /tmp/restore.err)"
msg="restore drill passed: $newest reads back completely, $data tables with data"
echo "$msg"; ping "" "$msg"
"""


# Listing stops once `head` has its sample (rclone dies on the closed pipe), so a large dataset lists quickly; the
# exit status is lost with it, so an empty sample is the failure signal and the log says why. `--files-from-raw`
# takes names literally (`--files-from` would drop names starting with `#` or `;` as comments).
_NAS_DRILL = PING_FUNCTION + r"""
fail() { echo "$1" >&2; ping /fail "$1"; exit 1; }
RCLONE_CONFIG_DRILL_PASSWORD=$(printf '%s' "$ENCRYPTION_PASSWORD" | rclone obscure -) \
  && RCLONE_CONFIG_DRILL_PASSWORD2=$(printf '%s' "$ENCRYPTION_SALT" | rclone obscure -) \
  || fail "restore drill failed: rclone obscure did not accept the encryption password or salt"
export RCLONE_CONFIG_DRILL_PASSWORD RCLONE_CONFIG_DRILL_PASSWORD2
unset ENCRYPTION_PASSWORD ENCRYPTION_SALT
rclone lsf -R --files-only --max-depth "$LIST_DEPTH" --min-size 1B --max-size "$MAX_SIZE" drill: 2>/tmp/verify.log \
  | head -n "$SAMPLE_FILES" >/tmp/sample.txt
picked=$(wc -l </tmp/sample.txt)
[ "$picked" -ge 1 ] || fail "restore drill failed: no file of 1 byte to $MAX_SIZE within $LIST_DEPTH levels of \
$RCLONE_CONFIG_DRILL_REMOTE decrypts (wrong password or salt, or an empty copy): $(tail -n 20 /tmp/verify.log)"
rclone copy --files-from-raw /tmp/sample.txt --no-traverse drill: /scratch/restored >>/tmp/verify.log 2>&1 \
  || fail "restore drill failed: rclone copy of $picked files: $(tail -n 20 /tmp/verify.log)"
restored=$(find /scratch/restored -type f -size +0 | wc -l)
[ "$restored" -eq "$picked" ] || fail "restore drill failed: $restored of $picked files restored non-empty"
rclone cryptcheck --files-from-raw /tmp/sample.txt /scratch/restored drill: >>/tmp/verify.log 2>&1 \
  || fail "restore drill failed: rclone cryptcheck: $(tail -n 20 /tmp/verify.log)"
msg="restore drill passed: $picked files of $RCLONE_CONFIG_DRILL_REMOTE decrypted and non-empty, cryptcheck agrees"
echo "$msg"; ping "" "$msg"
"""


# ---------------------------------------------------------------------------------------------
# Integrity checks


CA_DIR = "/etc/homelab-backups/ca"
"""Where check Jobs mount a destination's private CA bundle."""


def check_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """The Secret a VolSync copy's integrity check reads. kopia on object storage: the read-only twin of the
    repository Secret (`volsync.reader_secret`). restic: the repository Secret itself, because `restic check`
    must write its exclusive lock into the repository (without it a check racing a prune reports damage), and
    an NFS repository has no key at all."""
    source = ds.source
    if isinstance(source, PvcSource) and source.mover == "kopia" and copy.kind != "nfs":
        return volsync.reader_secret_name(ds, copy)
    return volsync.repository_secret_name(ds, copy)


def _volsync_check(ds: Dataset, source: PvcSource, copy: CopyPlan, every_days: int,
                   pings: bool) -> dict[str, Any]:
    if copy.dataset != ds.name or copy.tool != source.mover:
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a {source.mover} copy of {ds.name!r}")
    env = {"READ_PERCENT": str(READ_PERCENT)}
    if source.mover == "restic":
        image, script, tmp_size = RESTIC_IMAGE, _RESTIC_CHECK, source.cache_capacity
        env["RETRY_LOCK"] = RETRY_LOCK
    else:
        image, script, tmp_size = KOPIA_IMAGE, _KOPIA_CHECK, KOPIA_TMP_SIZE
        env |= {
            "CACHE_LIMIT_MB": str(KOPIA_CACHE_LIMIT_MB),
            # The image points these at /app, which the read-only root filesystem does not allow.
            "KOPIA_CONFIG_PATH": "/tmp/kopia/repository.config",
            "KOPIA_LOG_DIR": "/tmp/kopia/logs",
            "KOPIA_CACHE_DIRECTORY": "/tmp/kopia/cache",
            "KOPIA_CHECK_FOR_UPDATES": "false",
        }
    env |= _ping_env(ds, pings, copy.healthcheck_slug, CHECK)
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    # The mover's NFS volume at the mover's path, so the Secret's repository path resolves unchanged.
    for mover_volume in volsync.mover_volumes(copy):
        # restic writes its lock file into the repository; kopia reads only.
        read_only = source.mover == "kopia"
        volumes.append({"name": "repository", "nfs": {**mover_volume["volumeSource"]["nfs"], "readOnly": read_only}})
        mounts.append({"name": "repository", "mountPath": f"/mnt/{mover_volume['mountPath']}", "readOnly": read_only})
    if copy.private_ca:
        # The destination's private CA, from the ConfigMap its movers' customCA reads.
        env["CA_FILE"] = f"{CA_DIR}/{volsync.CA_KEY}"
        volumes.append({"name": "ca", "configMap": {"name": volsync.ca_config_map_name(copy)}})
        mounts.append({"name": "ca", "mountPath": CA_DIR, "readOnly": True})
    return cronjob(
        name=object_name(ds.name, copy.destination, CHECK, limit=CRONJOB_NAME_LIMIT),
        namespace=source.namespace,
        object_labels=_labels(ds, CHECK, copy.destination),
        schedule=schedule(_slot_minute(copy.schedule, CHECK_OFFSET_MINUTES), every_days,
                          f"{ds.name}/{copy.destination}/{CHECK}"),
        container=container(source.mover, image, script, env, mounts, VERIFY,
                            env_from_secrets=[check_secret_name(ds, copy)]),
        volumes=volumes,
        # The mover's identity: NFS repository files belong to it.
        security=pod_security(source.run_as_user or NOBODY, source.run_as_group or NOBODY),
        deadline_seconds=DEADLINE_SECONDS,
        tmp_size=tmp_size,
    )


def _pgbackrest_job(ds: Dataset, source: PostgresSource, copy: CopyPlan, repo_index: int, role: str,
                    script: str, schedule_text: str, pings: bool,
                    volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    plain, secret_env = pgbackrest.repository_env(ds, copy, repo_index, pgbackrest.reader_secret_name(ds, copy))
    env = {"STANZA": pgbackrest.stanza_config_name(ds), "REPO": str(repo_index),
           "PGBACKREST_LOG_LEVEL_FILE": "off", **plain, **_ping_env(ds, pings, copy.healthcheck_slug, role)}
    parts = (ds.name, copy.destination, role) if role == CHECK else (ds.name, role)
    if copy.private_ca:
        # The Stanza's CA path (PGBACKREST_REPO<n>_STORAGE_CA_FILE, in `plain`), from the destination's ConfigMap.
        volumes = [*volumes, {"name": "ca", "configMap": {"name": volsync.ca_config_map_name(copy), "items": [
            {"key": volsync.CA_KEY, "path": pgbackrest.ca_file_path(copy).rsplit("/", 1)[1]}]}}]
        mounts = [*mounts, {"name": "ca", "mountPath": pgbackrest.CA_DIR, "readOnly": True}]
    return cronjob(
        name=object_name(*parts, limit=CRONJOB_NAME_LIMIT),
        namespace=source.namespace,
        object_labels=_labels(ds, role, copy.destination),
        schedule=schedule_text,
        container=container("pgbackrest", PGBACKREST_IMAGE, script, env, mounts, VERIFY, secret_env),
        volumes=volumes,
        security=pod_security(PGBACKREST_UID, PGBACKREST_UID),
        deadline_seconds=DEADLINE_SECONDS,
    )


def integrity_checks(ds: Dataset, dataset_plan: DatasetPlan, pings: bool) -> list[dict[str, Any]]:
    """One scheduled repository check per copy of a PVC or postgres dataset; none when the tier asks for none."""
    _check_plan(ds, dataset_plan)
    source = ds.source
    if not isinstance(source, PvcSource | PostgresSource):
        raise TypeError(f"{ds.name}: integrity checks cover pvc and postgres datasets, not {source.kind} "
                        "(an export is checked through the NAS dataset that protects it)")
    every = dataset_plan.verify_every_days
    if every < 1:
        return []
    if isinstance(source, PvcSource):
        return [_volsync_check(ds, source, copy, every, pings) for copy in dataset_plan.copies]
    return [
        _pgbackrest_job(ds, source, copy, index, CHECK, _PGBACKREST_CHECK,
                        schedule(_slot_minute(copy.schedule, CHECK_OFFSET_MINUTES), every,
                                 f"{ds.name}/{copy.destination}/{CHECK}"),
                        pings, [], [])
        for index, copy in enumerate(dataset_plan.copies, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# Restore drills


def _pgbackrest_drill(ds: Dataset, source: PostgresSource, dataset_plan: DatasetPlan,
                      pings: bool) -> dict[str, Any]:
    if not dataset_plan.copies:
        raise ValueError(f"{ds.name}: nothing to drill; give the dataset a destination")
    first = dataset_plan.copies[0]
    return _pgbackrest_job(
        ds, source, first, 1, DRILL, _PGBACKREST_DRILL,
        schedule(_slot_minute(first.schedule, DRILL_OFFSET_MINUTES), dataset_plan.drill_every_days,
                 f"{ds.name}/{first.destination}/{DRILL}"),
        pings,
        [{"name": "scratch", "emptyDir": {"sizeLimit": _scratch_size(ds)}}],
        [{"name": "scratch", "mountPath": "/scratch"}],
    )


def _export_drill(ds: Dataset, source: ExportSource, dataset_plan: DatasetPlan, nas: Truenas,
                  pings: bool) -> dict[str, Any]:
    """Reads the folder the export job writes, through its NFS volume and as its identity."""
    export = dataset_plan.export
    if export is None:
        raise ValueError(f"dataset plan {dataset_plan.name!r} has no export for {ds.name!r}")
    job = exports.export_cronjob(ds, dataset_plan, nas=nas, pings=pings)
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    export_env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    nfs = next(v["nfs"] for v in pod["volumes"] if v["name"] == "backup")
    env: dict[str, Any] = {"DUMPS": export_env["OUT"], "PREFIX": ds.name, "EXT": exports.EXTENSIONS[export.engine]}
    env |= _ping_env(ds, pings, exports.dump_slug(dataset_plan), DRILL)
    image, script = (SQLITE_IMAGE, _SQLITE_DRILL) if export.engine == "sqlite" else (PG_DUMP_IMAGE, _PG_DUMP_DRILL)
    return cronjob(
        name=object_name(ds.name, DRILL, limit=CRONJOB_NAME_LIMIT),
        namespace=source.namespace,
        object_labels=_labels(ds, DRILL),
        schedule=schedule(_slot_minute(export.schedule, DRILL_OFFSET_MINUTES), dataset_plan.drill_every_days,
                          f"{ds.name}/{export.target_dataset}/{DRILL}"),
        container=container(export.engine.replace("_", "-"), image, script, env,
                            [{"name": "backup", "mountPath": "/backup", "readOnly": True}], DUMP),
        volumes=[{"name": "backup", "nfs": {**nfs, "readOnly": True}}],
        security=pod["securityContext"],
        deadline_seconds=DEADLINE_SECONDS,
        tmp_size=_scratch_size(ds),
    )


@dataclass(frozen=True)
class NasDrill:
    """The restore drill of one NAS dataset: the copy it reads, its Secret (references only) and its CronJob."""

    copy: CopyPlan
    """The offsite copy drilled: its cloud sync task's password and salt and the copy's read-only key fill the
    Secret (the drill only lists and reads)."""
    secret: SecretSpec
    cronjob: dict[str, Any]


def nas_drill_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """One Secret per drilled copy; also the store item `homelab-backups/<name>` in external-secret delivery."""
    return object_name(ds.name, copy.destination, DRILL)


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


def nas_restore_drill(ds: Dataset, dataset_plan: DatasetPlan, namespace: str,
                      pings: bool) -> NasDrill | None:
    """The scheduled restore drill of a TrueNAS dataset's first offsite copy, run in `namespace` (NAS datasets
    have no app namespace); None when the tier asks for none or no copy is offsite (the pack then reports it)."""
    _check_plan(ds, dataset_plan)
    if not isinstance(ds.source, TruenasSource):
        raise TypeError(f"{ds.name}: nas_restore_drill reads TrueNAS cloud sync copies, not {ds.source.kind} datasets")
    copy = next((c for c in dataset_plan.copies if c.offsite), None)
    if dataset_plan.drill_every_days < 1 or copy is None:
        return None
    if copy.tool != "cloudsync" or not copy.bucket:
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a cloud sync copy in a bucket")
    secret = SecretSpec(
        name=nas_drill_secret_name(ds, copy),
        namespace=namespace,
        labels=_labels(ds, DRILL, copy.destination),
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
        **_ping_env(ds, pings, copy.healthcheck_slug, DRILL),
    }
    job = cronjob(
        name=object_name(ds.name, copy.destination, DRILL, limit=CRONJOB_NAME_LIMIT),
        namespace=namespace,
        object_labels=_labels(ds, DRILL, copy.destination),
        schedule=schedule(_slot_minute(copy.schedule, DRILL_OFFSET_MINUTES), dataset_plan.drill_every_days,
                          f"{ds.name}/{copy.destination}/{DRILL}"),
        container=container("rclone", RCLONE_IMAGE, _NAS_DRILL, env,
                            [{"name": "scratch", "mountPath": "/scratch"}], VERIFY, secret_env),
        volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": NAS_SCRATCH_SIZE}}],
        security=pod_security(NOBODY, NOBODY),
        deadline_seconds=DEADLINE_SECONDS,
    )
    return NasDrill(copy, secret, job)


def restore_drills(ds: Dataset, dataset_plan: DatasetPlan, pings: bool, *,
                   nas: Truenas | None = None) -> list[dict[str, Any]]:
    """The scheduled restore drill of a postgres or export dataset (`nas`: required for exports); none when the
    tier asks for none. PVC drills are `volsync.drill_objects`, NAS drills `nas_restore_drill`."""
    _check_plan(ds, dataset_plan)
    source = ds.source
    if isinstance(source, PvcSource):
        raise TypeError(f"{ds.name}: PVC datasets are drilled by volsync.drill_objects")
    if isinstance(source, TruenasSource):
        raise TypeError(f"{ds.name}: truenas datasets are drilled by nas_restore_drill (it needs a namespace)")
    if not isinstance(source, PostgresSource | ExportSource):
        raise TypeError(f"{ds.name}: no restore drill for {source.kind} datasets yet")
    if dataset_plan.drill_every_days < 1:
        return []
    if isinstance(source, PostgresSource):
        return [_pgbackrest_drill(ds, source, dataset_plan, pings)]
    if nas is None:
        raise ValueError(f"{ds.name}: an export drill reads the dumps over NFS; pass the inventory's truenas")
    return [_export_drill(ds, source, dataset_plan, nas, pings)]

