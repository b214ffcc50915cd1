"""The Proxmox section the inventory, plan and component tests start from: the seed notes' NAS share (vzdump at
21:00, keep 14) and a PBS synced offsite."""

from __future__ import annotations

from typing import Any

PROXMOX: dict[str, Any] = {
    "api_url": "https://pve1.lan:8006",
    "token_id": "backup@pve!homelab-backups",
    "ca_file": "/etc/pve/pve-root-ca.pem",
    "nodes": ["pve1", "pve2"],
    "timezone": "Europe/Berlin",
    "pbs": {"api_url": "https://pbs.lan:8007", "token_id": "backup@pbs!homelab-backups"},
    "remotes": [{"name": "hetzner", "api_url": "https://pbs.offsite.example:8007",
                 "token_id": "admin@pbs!homelab-backups"}],
    "destinations": [
        {"name": "nas-vzdump", "kind": "pve-storage", "storage": "truenas-backups"},
        {"name": "pbs-local", "kind": "pbs", "datastore": "tank", "storage": "pbs-tank"},
        {"name": "pbs-offsite", "kind": "pbs", "datastore": "offsite", "sync_from": "pbs-local", "remote": "hetzner",
         "offsite": True, "media": "object-storage", "price_usd_per_tb_month": 4.0},
    ],
    "guests": [
        {"name": "infra", "tier": 1, "size_gb": 30, "vmids": [100, 101], "node": "pve1"},
        {"name": "lab", "tier": 3, "size_gb": 80, "all": True, "exclude": [100, 101, 200],
         "destinations": ["nas-vzdump"]},
        {"name": "media-ct", "tier": 2, "size_gb": 5, "vmids": [200], "destinations": ["pbs-local"],
         "schedule": "21:00"},
    ],
}


PVE_ENV: dict[str, str] = {
    "HLB_B2_KEY_ID": "id", "HLB_B2_KEY": "SECRET-b2", "HLB_TRUENAS_API_KEY": "SECRET-nas",
    "HLB_HEALTHCHECKS_PING_KEY": "SECRET-hc", "HLB_PROXMOX_TOKEN_SECRET": "SECRET-pve-token",
    "HLB_PBS_TOKEN_SECRET": "SECRET-pbs-token", "HLB_PROXMOX_AUDIT_TOKEN_SECRET": "SECRET-audit-token",
    "HLB_PROXMOX_DRILL_TOKEN_SECRET": "SECRET-drill-token"}
"""Every credential the `pve` example stack reads, as the environment variables the component tests run it with."""
