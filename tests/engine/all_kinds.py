"""An estate that uses every source kind and every destination kind whose provider can run here.

Sources: PVCs (restic and kopia), a CNPG Postgres cluster, a TrueNAS dataset and both exports (pg_dump, sqlite)
into a NAS dataset. Destinations: an NFS export, two buckets stores on the loopback S3 server (one on site, one
standing in for offsite) and, for the preview only, Backblaze B2 (its provider cannot reach a B2 stand-in from the
engine, see README). R2 and AWS S3 need bridged provider plugins that cannot be built here, so they are left out.
"""

from __future__ import annotations

from typing import Any

B2_DESTINATION = {"name": "b2", "kind": "b2", "region": "us-east-005", "price_usd_per_tb_month": 6}


def estate(s3_endpoint: str, nas_host: str, ca_file: str, *, with_b2: bool) -> dict[str, Any]:
    """The stack config (keys without the project prefix) of the estate; `with_b2` adds B2 to every Tier 1 copy."""
    offsite = ["b2"] if with_b2 else []
    return {
        "destinations": [
            {"name": "nas", "kind": "nfs", "server": "127.0.0.1", "path": "/mnt/tank/backups"},
            {"name": "nas-s3", "kind": "s3-compatible", "endpoint": s3_endpoint, "flavour": "moto",
             "offsite": False, "price_usd_per_tb_month": 0},
            {"name": "far-s3", "kind": "s3-compatible", "endpoint": s3_endpoint, "flavour": "moto",
             "offsite": True, "price_usd_per_tb_month": 6},
            *([B2_DESTINATION] if with_b2 else []),
        ],
        "datasets": [
            {"name": "vaultwarden", "tier": 1, "size_gb": 1, "rpo_hours": 6,
             "destinations": ["nas", "far-s3", *offsite],
             "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                        "storage_class": "ceph-block", "capacity": "5Gi"}},
            {"name": "grafana", "tier": 2, "size_gb": 0.5,
             "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                        "capacity": "2Gi", "mover": "kopia"}},
            {"name": "app-db", "tier": 1, "size_gb": 2, "destinations": ["nas-s3", "far-s3", *offsite],
             "source": {"kind": "postgres", "namespace": "database", "cluster": "app-db"}},
            {"name": "documents", "tier": 2, "size_gb": 20, "destinations": ["far-s3", *offsite],
             "source": {"kind": "truenas", "dataset": "tank/documents"}},
            {"name": "exports", "tier": 2, "size_gb": 1, "destinations": ["far-s3"],
             "source": {"kind": "truenas", "dataset": "tank/exports"}},
            {"name": "app-db-dump", "tier": 2, "size_gb": 0.5,
             "source": {"kind": "export", "engine": "pg_dump", "namespace": "database", "target": "exports",
                        "database_host": "app-db-rw.database.svc", "database_name": "app",
                        "credentials_secret": "app-db-app"}},
            {"name": "vaultwarden-sqlite", "tier": 2, "size_gb": 0.1,
             "source": {"kind": "export", "engine": "sqlite", "namespace": "vaultwarden", "target": "exports",
                        "sqlite_claim": "vaultwarden-data", "sqlite_path": "db.sqlite3"}},
        ],
        "truenas": {"host": nas_host, "ca_file": ca_file},
        "monitoring": {"healthchecks": {"ping_base": "http://127.0.0.1:9/ping/ping-key/"}},
        "kubernetes": {"mode": "render", "render_dir": "rendered", "secret_delivery": "external-secret"},
        "budget_usd_per_month": "10",
    }


ENV = {"HLB_NAS_S3_ACCESS_KEY_ID": "engine-test-key", "HLB_NAS_S3_SECRET_ACCESS_KEY": "engine-test-secret",
       "HLB_FAR_S3_ACCESS_KEY_ID": "engine-test-key", "HLB_FAR_S3_SECRET_ACCESS_KEY": "engine-test-secret"}
"""Credentials of the loopback stores (any key works there)."""
B2_ENV = {"HLB_B2_KEY_ID": "0012ab34cd56000000000000a", "HLB_B2_KEY": "K001preview0only0never0used0xx"}
"""Provisioning credentials for the B2 preview: a preview never calls B2, so these are never used."""
