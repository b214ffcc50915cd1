"""The scheduled guest restore drill: a CronJob per drilled guest group that restores the newest backup of one of
its guests to a scratch VM id, checks the restored disks against the backup's own configuration, and destroys it.

The script (scripts/pve-drill.sh, sh and curl on the curl image) signs in with the drill's own token
(inventory/proxmox_drill.py lists its privileges), pings `/start`, then success with what it restored, or `/fail`
with the reason; whatever it restored is removed on every path it can reach. The restored guest is never started:
a clone carries the production guest's IP addresses and services, and its passthrough devices (`hostpci`, `usb`)
would be taken from the running original; every network interface is also unplugged (`link_down=1`) as soon as the
restore finishes, so a clone started by hand during the drill stays off the network.
"""

from __future__ import annotations

from typing import Any

from manifests.healthchecks import PING_KEY, PING_URL_VARIABLE, STORE_ITEM
from manifests.proxmox import api_trust
from manifests.secrets import SecretRef, SecretSpec, SecretTemplate
from manifests.workloads import CURL_IMAGE, PING_FUNCTION, SMALL, container, cronjob, pod_security, script
from plan.proxmox_drill import GuestDrillPlan

TOKEN_SECRET = SecretRef("token_secret")
"""The drill token's secret (`credentials.proxmox_drill.token_secret`)."""
SECRET_NAME = "proxmox-drill-token"
LABELS = {"app.kubernetes.io/managed-by": "homelab-backups", "homelab-backups/check": "proxmox-drill"}


def drill_script() -> str:
    """The shell the CronJob runs."""
    return PING_FUNCTION + script("pve-drill")


def token_secret(namespace: str) -> SecretSpec:
    """The Secret holding the drill token's secret (an ExternalSecret in render mode); all drills share it."""
    return SecretSpec(name=SECRET_NAME, namespace=namespace, labels=LABELS, data={"PVE_TOKEN_SECRET": TOKEN_SECRET})


def ping_secret(namespace: str, endpoint: str, drills: tuple[GuestDrillPlan, ...]) -> SecretSpec:
    """The Secret holding every drill's ping URL, around the project's ping key (one store item, as every job's)."""
    return SecretSpec(name="proxmox-drill-healthchecks", namespace=namespace, labels=LABELS,
                      data={d.slug: SecretTemplate(endpoint, PING_KEY, f"/{d.slug}") for d in drills},
                      remote_item=STORE_ITEM)


def selection_env(drill: GuestDrillPlan) -> dict[str, str]:
    """The group's selector as the script reads it (lists space-separated)."""
    chosen = {key: str(value).replace(",", " ") for key, value in drill.selection}
    env = {"SELECT_VMIDS": chosen.get("vmid", ""), "SELECT_POOL": chosen.get("pool", ""),
           "SELECT_ALL": "1" if "all" in chosen else "0", "SELECT_EXCLUDE": chosen.get("exclude", ""),
           "SELECT_NODE": chosen.get("node", "")}
    return {k: v for k, v in env.items() if v and v != "0"}


def rotation(drill: GuestDrillPlan) -> str:
    """How often the CronJob runs (`month`, `week` or `day`): the script moves on to the next guest every run."""
    if drill.schedule.day_of_month is not None:
        return "month"
    return "week" if drill.schedule.weekday is not None else "day"


def drill_cronjob(namespace: str, drill: GuestDrillPlan, api_url: str, token_id: str, pings: bool,
                  ca_config_map: str | None = None, verify_tls: bool = True) -> dict[str, Any]:
    """The CronJob (UTC schedule) running one group's drill."""
    env: dict[str, Any] = {
        "GROUP": drill.group, "PVE_URL": api_url.rstrip("/"), "PVE_TOKEN_ID": token_id, "DRILL_NODE": drill.node,
        "BACKUP_STORAGE": drill.backup_storage, "SCRATCH_VMID": str(drill.scratch_vmid),
        "SCRATCH_POOL": drill.pool, "SCRATCH_STORAGE": drill.scratch_storage,
        "DRILL_ROTATE": rotation(drill), "TIMEOUT_SECONDS": str(drill.timeout_minutes * 60),
        **selection_env(drill),
    }
    if pings:
        env[PING_URL_VARIABLE] = {"valueFrom": {"secretKeyRef": {"name": "proxmox-drill-healthchecks",
                                                                 "key": drill.slug}}}
    secret_env = [{"name": "PVE_TOKEN_SECRET",
                   "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": "PVE_TOKEN_SECRET"}}}]
    trust, mounts, volumes = api_trust(ca_config_map, verify_tls)
    env.update(trust)
    # The restore and the removal each get the task timeout; ten minutes more for listing and checking.
    deadline = 2 * drill.timeout_minutes * 60 + 600
    return cronjob(drill.name, namespace, drill.labels, drill.schedule.five_field(),
                   container("drill", CURL_IMAGE, drill_script(), env, mounts, SMALL, secret_env), volumes,
                   pod_security(100, 101), deadline)
