"""Synthetic inventories of any size: a realistic mix of sources, tiers and destinations, seeded."""

from __future__ import annotations

import random
from typing import Any

DESTINATIONS: list[dict[str, Any]] = [
    {"name": "nas", "kind": "nfs", "server": "nas.internal", "path": "/mnt/tank/backups"},
    {"name": "nas-s3", "kind": "s3-compatible", "endpoint": "https://nas.internal:9000", "flavour": "minio",
     "offsite": False, "price_usd_per_tb_month": 0},
    {"name": "b2", "kind": "b2", "region": "us-west-004", "price_usd_per_tb_month": 6},
    {"name": "r2", "kind": "r2", "account_id": "ab" * 16, "price_usd_per_tb_month": 15},
    {"name": "storj", "kind": "s3-compatible", "endpoint": "https://gateway.storjshare.io", "flavour": "storj",
     "price_usd_per_tb_month": 4},
]

BUDGET_USD_PER_MONTH = 1_000_000
"""A synthetic estate's storage bill grows with its size; the bench measures speed, not the budget rule's verdict."""

# Share of each source kind, as in the homelab notes: mostly app PVCs, some databases and NAS datasets.
MIX = (("pvc", 0.55), ("postgres", 0.15), ("truenas", 0.2), ("export", 0.1))


def _source(kind: str, index: int, rnd: random.Random, nas_datasets: list[str]) -> dict[str, Any]:
    if kind == "pvc":
        return {"kind": "pvc", "namespace": f"apps{index % 25}", "claim": f"data-{index}",
                "storage_class": "ceph-block", "capacity": f"{rnd.choice((1, 5, 10, 50))}Gi",
                "mover": rnd.choice(("restic", "kopia"))}
    if kind == "postgres":
        return {"kind": "postgres", "namespace": "database", "cluster": f"pg-{index}"}
    if kind == "truenas":
        return {"kind": "truenas", "dataset": f"tank/data/set{index}"}
    return {"kind": "export", "engine": "sqlite", "namespace": f"apps{index % 25}", "target": rnd.choice(nas_datasets),
            "sqlite_claim": f"data-{index}", "sqlite_path": "app.db"}


def synthetic_inventory(datasets: int, seed: int = 7, s3_endpoint: str | None = None) -> dict[str, Any]:
    """An inventory with `datasets` entries; with `s3_endpoint`, object stores become one loopback server
    and every dataset is a PVC (the engine benchmark has no NAS API and no HTTPS object store).

    Exports target a tier 1 NAS dataset created first, so every generated inventory is valid.
    """
    rnd = random.Random(seed)
    if s3_endpoint:
        destinations = [DESTINATIONS[0], {"name": "local-s3", "kind": "s3-compatible", "endpoint": s3_endpoint,
                                          "flavour": "moto"}]
        offsite = ["local-s3"]
    else:
        destinations = DESTINATIONS
        offsite = ["b2", "r2", "storj"]
    items: list[dict[str, Any]] = [{"name": "exports", "tier": 1, "size_gb": 20, "destinations": offsite[:2],
                                    "source": {"kind": "truenas", "dataset": "tank/exports"}}]
    if s3_endpoint:
        items[0] = {"name": "exports", "tier": 2, "size_gb": 20,
                    "source": {"kind": "pvc", "namespace": "apps0", "claim": "exports", "storage_class": "ceph-block",
                               "capacity": "20Gi"}}
    kinds, weights = zip(*MIX, strict=True)
    for index in range(1, datasets):
        kind = rnd.choices(kinds, weights)[0]
        if s3_endpoint and kind != "pvc":
            kind = "pvc"  # loopback variant: no NAS API to talk to, and pgBackRest needs HTTPS
        tier = rnd.choices((1, 2, 3), (0.3, 0.5, 0.2))[0]
        entry: dict[str, Any] = {"name": f"ds-{index}", "tier": tier, "size_gb": round(rnd.uniform(0.5, 200), 1),
                                 "source": _source(kind, index, rnd, ["exports"])}
        if kind in ("truenas", "postgres") and tier == 1 and len(offsite) < 2:
            entry["tier"] = 2
        if kind == "postgres" and entry["tier"] == 3:
            entry["tier"] = 2
        if kind == "export":
            entry["tier"] = min(max(entry["tier"], items[0]["tier"]), 2)  # tier 3 may not reach offsite via its target
        items.append(entry)
    return {"destinations": destinations, "datasets": items, "truenas": {"host": "nas.internal"},
            "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
            "kubernetes": {"mode": "render", "secret_delivery": "external-secret"},
            "budget_usd_per_month": BUDGET_USD_PER_MONTH}


def every_kind_inventory(datasets: int, s3_endpoint: str, nas_host: str, ca_file: str) -> dict[str, Any]:
    """The every-kind estate of the engine tests (tests/engine/all_kinds.py: PVCs with restic and kopia, a CNPG
    database, NAS datasets and pg_dump/sqlite exports; NFS and two loopback S3 stores) repeated until it holds
    `datasets` datasets: the pull request the pipeline previews with the pack."""
    from tests.engine import all_kinds

    base = all_kinds.estate(s3_endpoint, nas_host, ca_file, with_b2=False)
    items: list[dict[str, Any]] = []
    copy = 0
    while len(items) < datasets:
        suffix = f"-{copy}"
        for entry in base["datasets"]:
            if len(items) == datasets:
                break
            entry = {**entry, "name": entry["name"] + suffix, "source": dict(entry["source"])}
            source = entry["source"]
            for key in ("claim", "cluster", "target", "sqlite_claim", "credentials_secret"):
                if key in source:
                    source[key] += suffix
            if source["kind"] == "truenas":
                source["dataset"] += suffix
            if source.get("database_host"):
                source["database_host"] = source["database_host"].replace("app-db", f"app-db{suffix}", 1)
            items.append(entry)
        copy += 1
    return {**base, "datasets": items, "budget_usd_per_month": BUDGET_USD_PER_MONTH,
            "monitoring": {"healthchecks": {"ping_base": "http://127.0.0.1:9/ping/"}}}


def nas_datasets(inventory: dict[str, Any]) -> list[str]:
    """The ZFS datasets an inventory's TrueNAS sources name (the NAS stand-in must hold them)."""
    return [d["source"]["dataset"] for d in inventory["datasets"] if d["source"]["kind"] == "truenas"]
