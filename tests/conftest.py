"""Shared fixtures: a small valid estate every inventory/plan test starts from and changes one thing in."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE_ESTATE: dict[str, Any] = {
    "truenas": {"host": "citadel.internal"},
    "budget_usd_per_month": 100,
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/ping-key/"}},
    "destinations": [
        {"name": "nas", "kind": "nfs", "server": "citadel.internal", "path": "/mnt/storage0/backups"},
        {"name": "b2", "kind": "b2", "region": "us-east-005"},
        {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"},
    ],
    "datasets": [
        {"name": "vaultwarden", "tier": 1, "size_gb": 2,
         "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                    "storage_class": "ceph-block", "capacity": "5Gi"}},
        {"name": "grafana", "tier": 2, "size_gb": 1,
         "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                    "capacity": "5Gi", "mover": "kopia"}},
        {"name": "immich-db", "tier": 1, "size_gb": 10,
         "source": {"kind": "postgres", "namespace": "database", "cluster": "postgres18-immich"}},
        {"name": "photos", "tier": 1, "size_gb": 500, "source": {"kind": "truenas", "dataset": "storage0/photos"}},
        {"name": "media", "tier": 3, "size_gb": 4000,
         "source": {"kind": "pvc", "namespace": "media", "claim": "library", "storage_class": "ceph-block",
                    "capacity": "5Ti"}},
        {"name": "grafana-db", "tier": 2, "size_gb": 0.1,
         "source": {"kind": "export", "engine": "sqlite", "namespace": "monitoring", "target": "photos",
                    "sqlite_claim": "grafana", "sqlite_path": "grafana.db"}},
    ],
}


@pytest.fixture
def estate() -> dict[str, Any]:
    """A fresh deep copy of the base estate, free to mutate."""
    return copy.deepcopy(BASE_ESTATE)
