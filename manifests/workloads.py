"""Hardened batch/v1 CronJobs for the small jobs this program runs itself (dumps, drills, integrity checks).

The one home of their container images and of the restricted pod profile: non-root, no privilege escalation,
no capabilities, read-only root filesystem with a scratch `/tmp`, and bounded resources.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from manifests.meta import metadata

CURL_IMAGE = "docker.io/curlimages/curl:8.11.1"
"""Drill checks: busybox shell with `find`, plus curl for Healthchecks pings."""
PG_DUMP_IMAGE = "docker.io/library/postgres:18.1-alpine"
"""pg_dump must be at least as new as the server; 18 reads every supported server version."""
SQLITE_IMAGE = "docker.io/keinos/sqlite3:3.47.2"
"""sqlite3 CLI on Alpine (busybox shell and wget for pings)."""
MARIADB_IMAGE = "docker.io/library/mariadb:11.4"
"""mariadb-dump (MariaDB 11.4 LTS) on Ubuntu: bash as sh, no curl or wget (a reporter container pings)."""
MYSQL_IMAGE = "docker.io/library/mysql:8.4"
"""mysqldump (MySQL 8.4 LTS) on Oracle Linux: bash, no curl or wget (a reporter container pings)."""
MONGO_IMAGE = "docker.io/library/mongo:8.0"
"""mongodump and the database tools on Ubuntu, no curl or wget (a reporter container pings)."""
REDIS_IMAGE = "docker.io/library/redis:7.4-alpine"
"""redis-cli and redis-check-rdb on Alpine (busybox shell)."""
RESTIC_IMAGE = "docker.io/restic/restic:0.18.0"
"""The restic release VolSync's mover ships (mover-restic/SOURCE_VERSIONS); Alpine, busybox shell and wget."""
KOPIA_IMAGE = "docker.io/kopia/kopia:0.22.3"
"""The kopia release the perfectra1n VolSync fork builds its mover from; Ubuntu, with sh and curl."""
PGBACKREST_IMAGE = "docker.io/woblerr/pgbackrest:2.58.0-alpine"
"""pgBackRest built from the upstream release on Alpine (busybox shell and wget); reads repositories of older 2.x."""
RCLONE_IMAGE = "docker.io/rclone/rclone:1.69.1"
"""NAS restore drills read TrueNAS cloud sync's rclone crypt layout with rclone itself; Alpine, busybox sh and wget."""
PGBACKREST_UID = 2001
"""The image's `pgbackrest` user: pgBackRest opens /etc/pgbackrest/pgbackrest.conf (0640, owned by it) on every run."""

SMALL = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
"""Drill checks only walk a directory tree."""
DUMP = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
"""pg_dump and sqlite3 stream data; memory stays flat regardless of database size."""
VERIFY = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
"""Repository checks and restores hold the repository index in memory, which grows with the repository."""

SCRIPTS = Path(__file__).resolve().parent / "scripts"
"""The shell the jobs run, one file per job kind; shellcheck lints them as rendered (tests/manifests)."""


@functools.cache
def script(name: str) -> str:
    """The text of `scripts/<name>.sh`, exactly as stored (fragments are joined without separators)."""
    return (SCRIPTS / f"{name}.sh").read_text()


PING_FUNCTION = (
    'ping() { [ -n "${HC_URL:-}" ] || return 0; '
    'if command -v curl >/dev/null 2>&1; then curl -fsS -m 10 --retry 5 -o /dev/null --data-raw "$2" "$HC_URL$1"; '
    'else wget -q -T 10 -O /dev/null --post-data "$2" "$HC_URL$1"; fi && return 0; '
    'echo "Healthchecks ping${1:+ $1} failed: check monitoring.healthchecks.ping_base and the ping key; '
    'failing this run so the missing report is seen" >&2; exit 1; }'
)
"""`ping <suffix> <body>`: report to Healthchecks when HC_URL is set. A ping that fails (wrong ping key, server
unreachable) ends the job with exit 1, so the Job shows failed instead of hiding that alerting is dead. The URL is
never printed: it carries the project's ping key."""


def pod_security(uid: int, gid: int) -> dict[str, Any]:
    """Pod-level context: the given non-root identity and the runtime's default seccomp profile."""
    if uid == 0:
        raise ValueError("jobs run as a non-root user; set run_as_user to the app's uid (not 0)")
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "supplementalGroups": [gid],
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    """Container-level context: nothing beyond what a shell script reading files and the network needs."""
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def _tmp_volume(size: str) -> dict[str, Any]:
    return {"name": "tmp", "emptyDir": {"sizeLimit": size}}


def _tmp_mount() -> dict[str, Any]:
    return {"name": "tmp", "mountPath": "/tmp"}


def cronjob(
    name: str,
    namespace: str,
    object_labels: dict[str, str],
    schedule: str,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    security: dict[str, Any],
    deadline_seconds: int,
    tmp_size: str = "64Mi",
) -> dict[str, Any]:
    """A CronJob that never overlaps itself, never retries blindly, and keeps a little history for debugging.

    `tmp_size` bounds the scratch `/tmp`: jobs that cache or copy data there get room for it, nothing more.
    """
    pod_labels = dict(object_labels)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(name, namespace, object_labels),
        "spec": {
            "schedule": schedule,
            # Plan schedules are UTC (plan/zones.py); say so, or the controller manager's own zone applies.
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            # A missed start (controller down) runs late within the hour, never as a burst of catch-up jobs.
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": dict(pod_labels)},
                "spec": {
                    "backoffLimit": 1,
                    "activeDeadlineSeconds": deadline_seconds,
                    "template": {
                        "metadata": {"labels": dict(pod_labels)},
                        "spec": {
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": False,
                            "securityContext": security,
                            "containers": [container],
                            "volumes": [_tmp_volume(tmp_size), *volumes],
                        },
                    },
                },
            },
        },
    }


def container(
    name: str,
    image: str,
    script: str,
    env: dict[str, Any],
    mounts: list[dict[str, Any]],
    resources: dict[str, Any],
    secret_env: list[dict[str, Any]] | None = None,
    env_from_secrets: list[str] | None = None,
) -> dict[str, Any]:
    """A shell-script container with the restricted profile, `/tmp` as its only writable local path.

    `env` values are strings, or a `{"valueFrom": ...}` source (a ping URL from its Secret).
    `env_from_secrets` names Secrets whose every key becomes a variable, so a job reads a repository Secret
    exactly as the mover that wrote the repository does, without this program knowing its values.
    """
    env_list: list[dict[str, Any]] = [{"name": k, "value": v} if isinstance(v, str) else {"name": k, **v}
                                      for k, v in env.items()]
    env_list += secret_env or []
    env_list.append({"name": "HOME", "value": "/tmp"})
    result: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", script],
        "env": env_list,
        "resources": copy.deepcopy(resources),
        "securityContext": container_security(),
        "volumeMounts": [_tmp_mount(), *mounts],
    }
    if env_from_secrets:
        result["envFrom"] = [{"secretRef": {"name": secret}} for secret in env_from_secrets]
    return result
