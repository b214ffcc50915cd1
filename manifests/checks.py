"""Scheduled repository integrity checks (design §4, §7): one dispatch over unit kinds, `checks(unit, pings)`.

Integrity checks run on the tier's `verify_every_days`, one CronJob per copy the plan lists
(`ProtectionUnit.checks`), with the Secret the plan names, and never change the backed-up data:

- restic: `restic check --read-data-subset=<n>%` verifies the repository structure and reads a random n% of the
  data packs. It holds restic's exclusive lock while it runs (`--retry-lock` waits out a running backup or prune),
  so an NFS repository is mounted writable for the lock file only.
- kopia: `kopia repository connect --readonly` with the Secret's settings (the fork mover's connect logic: bucket
  and prefix from `KOPIA_REPOSITORY`, endpoint, region, TLS), then `kopia snapshot verify --verify-files-percent=<n>`,
  which checks that every snapshot's contents exist and downloads n% of the files. NFS is mounted read-only.
- pgBackRest: `pgbackrest verify` of one repository (checksums of every backup file and WAL segment), configured
  from the same `PGBACKREST_REPO<n>_*` settings as the Stanza. It exits 0 even when it finds damage, so the job
  reads the verdict (`status: ok`) from its text report.
- NAS datasets and exports: none here (an export is checked through the NAS dataset that protects it).

Every job reports to Healthchecks (`<base><copy slug>-check`, `/fail` on failure) and is labelled
`backup.homelab/verification: check` for the policy pack; its time comes from the plan (plan/stagger.py). The shell
lives in `manifests/scripts/` (shellcheck lints it as rendered).
"""

from __future__ import annotations

from typing import Any

from inventory.models import PostgresSource, PvcSource
from manifests import pgbackrest, volsync
from manifests.healthchecks import ping_env
from manifests.workloads import (
    KOPIA_IMAGE,
    PGBACKREST_IMAGE,
    PGBACKREST_UID,
    PING_FUNCTION,
    RESTIC_IMAGE,
    VERIFY,
    container,
    cronjob,
    pod_security,
    script,
)
from plan.model import CopyPlan
from plan.names import LABEL_VERIFICATION  # noqa: F401 (re-exported: the pack's tests read it here)
from plan.units import CHECK, DRILL, ProtectionUnit, VerificationJob  # noqa: F401 (CHECK, DRILL re-exported)

READ_PERCENT = 10
"""Share of the data a check downloads: weekly runs read each pack about every ten weeks on average."""
RETRY_LOCK = "30m"
"""How long a restic check waits for a backup or prune holding the repository lock."""
DEADLINE_SECONDS = 4 * 3600
KOPIA_CACHE_LIMIT_MB = 1024
"""Hard limit of each kopia cache (contents, metadata); the check's `/tmp` holds both with room to spare."""
KOPIA_TMP_SIZE = "3Gi"
NOBODY = 65534
"""Identity of jobs on repositories written by root movers (as volsync.drill_objects does)."""
CA_DIR = "/etc/homelab-backups/ca"
"""Where check Jobs mount a destination's private CA bundle."""


def job_ping_env(unit: ProtectionUnit, pings: bool, job: VerificationJob) -> dict[str, Any]:
    """`HC_URL` of a check or drill job, from the unit's ping Secret; nothing without Healthchecks."""
    return ping_env(unit, job.slug) if pings else {}


def report(passed: str, failed: str, verdict: str = "") -> str:
    """Script tail (`scripts/report.sh`): show the log, then ping success when the tool exited 0 (and `verdict`
    holds), else `/fail`."""
    return (script("report").replace("@AND_VERDICT@", f" && {verdict}" if verdict else "")
            .replace("@PASSED@", passed).replace("@FAILED@", failed))


_RESTIC_CHECK = PING_FUNCTION + script("restic-check") + report(
    "restic check passed, $READ_PERCENT% of the data read", "restic check failed")
_KOPIA_CHECK = PING_FUNCTION + script("kopia-check") + report(
    "kopia snapshot verify passed, $READ_PERCENT% of the files read", "kopia check failed")
# pgBackRest verify exits 0 even when it finds damage (src/command/verify/verify.c, cmdVerify): the verdict is the
# `status:` line of its text report, which --verbose prints for a healthy repository too.
_PGBACKREST_CHECK = PING_FUNCTION + script("pgbackrest-check") + report(
    "pgbackrest verify of repo $REPO passed", "pgbackrest verify of repo $REPO failed",
    verdict="grep -qx 'status: ok' /tmp/verify.log && ! grep -q 'no archives or backups exist' /tmp/verify.log")


def _volsync_check(unit: ProtectionUnit, source: PvcSource, copy: CopyPlan, job: VerificationJob,
                   pings: bool) -> dict[str, Any]:
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
    env |= job_ping_env(unit, pings, job)
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
    assert job.secret is not None  # the plan names the Secret of every check
    return cronjob(
        name=job.name,
        namespace=source.namespace,
        object_labels=job.labels,
        schedule=job.schedule.five_field(),
        container=container(source.mover, image, script, env, mounts, VERIFY, env_from_secrets=[job.secret]),
        volumes=volumes,
        # The mover's identity: NFS repository files belong to it.
        security=pod_security(source.run_as_user or NOBODY, source.run_as_group or NOBODY),
        deadline_seconds=DEADLINE_SECONDS,
        tmp_size=tmp_size,
    )


def pgbackrest_job(unit: ProtectionUnit, source: PostgresSource, job: VerificationJob, text: str, pings: bool,
                   volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """A pgBackRest job (integrity check or restore drill) opening the planned repository with its read-only key."""
    copy = next(c for c in unit.copies if c.destination == job.destination)
    assert job.secret is not None  # the plan names the read-only Secret of every pgBackRest job
    plain, secret_env = pgbackrest.repository_env(unit, copy, job.repo_index, job.secret)
    # A private CA: the Stanza's path (PGBACKREST_REPO<n>_STORAGE_CA_FILE, in `plain`) from the destination's ConfigMap.
    ca_volumes, ca_mounts = pgbackrest.ca_volume(unit, copy)
    volumes, mounts = [*volumes, *ca_volumes], [*mounts, *ca_mounts]
    env = {"STANZA": pgbackrest.stanza_config_name(unit), "REPO": str(job.repo_index),
           "PGBACKREST_LOG_LEVEL_FILE": "off", **plain, **job_ping_env(unit, pings, job)}
    return cronjob(
        name=job.name,
        namespace=source.namespace,
        object_labels=job.labels,
        schedule=job.schedule.five_field(),
        container=container("pgbackrest", PGBACKREST_IMAGE, text, env, mounts, VERIFY, secret_env),
        volumes=volumes,
        security=pod_security(PGBACKREST_UID, PGBACKREST_UID),
        deadline_seconds=DEADLINE_SECONDS,
    )


def checks(unit: ProtectionUnit, pings: bool) -> list[dict[str, Any]]:
    """The CronJobs of the unit's planned integrity checks (`ProtectionUnit.checks`), one dispatch over kinds."""
    source = unit.source
    copies = {c.destination: c for c in unit.copies}
    if isinstance(source, PvcSource):
        return [_volsync_check(unit, source, copies[job.destination], job, pings) for job in unit.checks]
    if isinstance(source, PostgresSource):
        return [pgbackrest_job(unit, source, job, _PGBACKREST_CHECK, pings, [], []) for job in unit.checks]
    if unit.checks:
        raise ValueError(f"{unit.name}: the plan lists integrity checks for a {unit.kind} dataset, which has none")
    return []
