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
CA_CONFIG_MAP = "proxmox-ca"
"""The ConfigMap holding `proxmox.ca_file`'s bundle in the monitoring namespace, for the coverage check and drills."""

_SCRIPT = PING_FUNCTION + """
set -u
ping /start ""
set --
[ -n "${PVE_CA_FILE:-}" ] && set -- --cacert "$PVE_CA_FILE"
[ -n "${PVE_TLS_INSECURE:-}" ] && set -- "$@" --insecure
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


def ca_config_map(namespace: str, bundle: str) -> dict[str, Any]:
    """`proxmox.ca_file`'s PEM bundle, where the CronJobs that call the PVE API mount it."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CA_CONFIG_MAP, "namespace": namespace, "labels": LABELS},
            "data": {"ca.pem": bundle}}


def api_trust(ca_config_map: str | None, verify_tls: bool) -> tuple[dict[str, str], list[dict[str, Any]],
                                                                     list[dict[str, Any]]]:
    """(env, mounts, volumes) making a CronJob's curl trust the PVE API as the program's own provider does: the
    private CA of `proxmox.ca_file`, or no verification with `verify_tls: false` (its reason is in the runbook)."""
    env: dict[str, str] = {}
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    if ca_config_map:
        env["PVE_CA_FILE"] = f"{CA_MOUNT}/ca.pem"
        mounts.append({"name": "proxmox-ca", "mountPath": CA_MOUNT, "readOnly": True})
        volumes.append({"name": "proxmox-ca", "configMap": {"name": ca_config_map}})
    if not verify_tls:
        env["PVE_TLS_INSECURE"] = "1"
    return env, mounts, volumes


def coverage_cronjob(namespace: str, schedule: Cron, api_url: str, token_id: str, slug: str,
                     ca_config_map: str | None = None, verify_tls: bool = True) -> dict[str, Any]:
    """The CronJob (UTC schedule) running the check with curl."""
    trust, mounts, volumes = api_trust(ca_config_map, verify_tls)
    env: dict[str, Any] = {
        "PVE_URL": api_url.rstrip("/"), "PVE_TOKEN_ID": token_id,
        PING_URL_VARIABLE: {"valueFrom": {"secretKeyRef": {"name": f"{NAME}-healthchecks", "key": slug}}},
        **trust,
    }
    secret_env = [{"name": "PVE_TOKEN_SECRET",
                   "valueFrom": {"secretKeyRef": {"name": f"{NAME}-token", "key": "PVE_TOKEN_SECRET"}}}]
    return cronjob(NAME, namespace, LABELS, schedule.five_field(),
                   container("coverage", CURL_IMAGE, _SCRIPT, env, mounts, SMALL, secret_env), volumes,
                   pod_security(100, 101), 300)
