"""The Proxmox coverage check: a daily CronJob asking PVE which guests no backup job covers
(`GET /cluster/backup-info/not-backed-up`) and reporting the answer to Healthchecks.

A guest created after the inventory was written (a new VM id outside every selector) is backed up by nothing; PVE
knows, the program cannot. The job signs in with a read-only token (role PVEAuditor), pings `/start`, then success
when the list is empty and `/fail` with the uncovered guests otherwise.
"""

from __future__ import annotations

from typing import Any

from manifests.healthchecks import PING_KEY, PING_URL_VARIABLE, STORE_ITEM
from manifests.secrets import SecretRef, SecretSpec, SecretTemplate
from manifests.workloads import CURL_IMAGE, PING_FUNCTION, SMALL, container, cronjob, pod_security
from plan.cron import Cron

NAME = "proxmox-coverage"
TOKEN_SECRET = SecretRef("token_secret")
"""The read-only token's secret (`credentials.proxmox_audit.token_secret`)."""
LABELS = {"app.kubernetes.io/managed-by": "homelab-backups", "homelab-backups/check": "proxmox-coverage"}
CA_MOUNT = "/etc/proxmox-ca"

_SCRIPT = PING_FUNCTION + """
set -u
ping /start ""
set --
[ -n "${PVE_CA_FILE:-}" ] && set -- --cacert "$PVE_CA_FILE"
if ! body=$(curl -fsS -m 30 "$@" -H "Authorization: PVEAPIToken=${PVE_TOKEN_ID}=${PVE_TOKEN_SECRET}" \\
    "${PVE_URL}/api2/json/cluster/backup-info/not-backed-up"); then
  ping /fail "the PVE API at ${PVE_URL} did not answer (token ${PVE_TOKEN_ID})"; exit 1
fi
compact=$(printf '%s' "$body" | tr -d ' \\n\\r\\t')
case "$compact" in
  *'"data":[]'*) ping "" "every guest is in a backup job" ;;
  *) echo "guests no backup job covers: $compact" >&2
     ping /fail "guests no backup job covers (add them to a proxmox.guests group): $compact"; exit 1 ;;
esac
"""


def token_secret(namespace: str) -> SecretSpec:
    """The Secret holding the read-only token's secret (an ExternalSecret in render mode)."""
    return SecretSpec(name=f"{NAME}-token", namespace=namespace, labels=LABELS,
                      data={"PVE_TOKEN_SECRET": TOKEN_SECRET})


def ping_secret(namespace: str, endpoint: str, slug: str) -> SecretSpec:
    """The Secret holding the check's ping URL, around the project's ping key (one store item, as every job's)."""
    return SecretSpec(name=f"{NAME}-healthchecks", namespace=namespace, labels=LABELS,
                      data={slug: SecretTemplate(endpoint, PING_KEY, f"/{slug}")}, remote_item=STORE_ITEM)


def coverage_cronjob(namespace: str, schedule: Cron, api_url: str, token_id: str, slug: str,
                     ca_config_map: str | None = None) -> dict[str, Any]:
    """The CronJob (UTC schedule) running the check with curl."""
    env: dict[str, Any] = {
        "PVE_URL": api_url.rstrip("/"), "PVE_TOKEN_ID": token_id,
        PING_URL_VARIABLE: {"valueFrom": {"secretKeyRef": {"name": f"{NAME}-healthchecks", "key": slug}}},
    }
    secret_env = [{"name": "PVE_TOKEN_SECRET",
                   "valueFrom": {"secretKeyRef": {"name": f"{NAME}-token", "key": "PVE_TOKEN_SECRET"}}}]
    mounts, volumes = [], []
    if ca_config_map:
        env["PVE_CA_FILE"] = f"{CA_MOUNT}/ca.pem"
        mounts.append({"name": "proxmox-ca", "mountPath": CA_MOUNT, "readOnly": True})
        volumes.append({"name": "proxmox-ca", "configMap": {"name": ca_config_map}})
    return cronjob(NAME, namespace, LABELS, schedule.five_field(),
                   container("coverage", CURL_IMAGE, _SCRIPT, env, mounts, SMALL, secret_env), volumes,
                   pod_security(100, 101), 300)
