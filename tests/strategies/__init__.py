"""Named hypothesis strategies: valid inventories of every shape the plan must handle."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

OFFSITE_KINDS = ("b2", "r2", "s3", "s3-compatible")
BUDGET_USD = 1000
"""Above what drawn estates cost; the pack is configured with the same budget when it judges them."""
LOCKABLE_KINDS = ("b2", "s3", "s3-compatible")
"""Offsite kinds (as drawn here: s3-compatible is MinIO) whose buckets can hold a Tier 1 locked copy."""


def _destination(kind: str, index: int) -> dict[str, Any]:
    name = f"{kind.replace('s3-compatible', 'compat')}-{index}"
    if kind == "b2":
        return {"name": name, "kind": kind, "region": "us-west-004"}
    if kind == "r2":
        return {"name": name, "kind": kind, "account_id": "ab" * 16}
    if kind == "s3":
        return {"name": name, "kind": kind, "region": "eu-west-1"}
    return {"name": name, "kind": kind, "endpoint": "https://gateway.example.net", "flavour": "minio"}


@st.composite
def destinations(draw) -> list[dict[str, Any]]:
    """A NAS plus one to three offsite object stores."""
    kinds = draw(st.lists(st.sampled_from(OFFSITE_KINDS), min_size=1, max_size=3))
    nas = {"name": "nas", "kind": "nfs", "server": "nas.internal", "path": "/mnt/tank/backups"}
    lan_s3 = {"name": "nas-s3", "kind": "s3-compatible", "endpoint": "https://nas.internal:9000", "flavour": "minio",
              "offsite": False}
    return [nas, lan_s3] + [_destination(k, i) for i, k in enumerate(kinds)]


@st.composite
def datasets(draw, tier: int | None = None, index: int = 0) -> dict[str, Any]:
    """One dataset of a random source kind (exports excluded: they need a truenas target)."""
    kind = draw(st.sampled_from(("pvc", "postgres", "truenas")))
    chosen_tier = tier or draw(st.sampled_from((1, 2, 3)))
    if kind == "postgres" and chosen_tier == 3:
        chosen_tier = 2  # a tier 3 database has no local object store to go to: the inventory refuses it
    name = f"ds-{index}"
    if kind == "pvc":
        source = {"kind": "pvc", "namespace": f"ns{index % 7}", "claim": f"data-{index}", "storage_class": "ceph-block",
                  "capacity": "10Gi", "mover": draw(st.sampled_from(("restic", "kopia")))}
    elif kind == "postgres":
        source = {"kind": "postgres", "namespace": "database", "cluster": f"pg-{index}"}
    else:
        source = {"kind": "truenas", "dataset": f"tank/data{index}"}
    entry = {"name": name, "tier": chosen_tier, "size_gb": draw(st.floats(0.1, 2000)), "source": source}
    if chosen_tier != 3 and draw(st.booleans()):
        entry["rpo_hours"] = draw(st.integers(1, 12 if chosen_tier == 1 else 24))
    return entry


@st.composite
def inventories(draw, max_datasets: int = 12) -> dict[str, Any]:
    """A valid inventory: Tier 1 postgres/truenas datasets get two offsite copies so 3-2-1 holds, and every Tier 1
    dataset an offsite destination that can hold its locked copy (R2 cannot)."""
    dests = draw(destinations())
    count = draw(st.integers(1, max_datasets))
    items = [draw(datasets(index=i)) for i in range(count)]
    offsite = [d["name"] for d in dests if d["kind"] != "nfs" and d.get("offsite", True)]
    lockable = [d["name"] for d in dests if d["kind"] in LOCKABLE_KINDS and d.get("offsite", True)]
    for item in items:
        if item["source"]["kind"] in ("postgres", "truenas") and item["tier"] == 1 and len(offsite) < 2:
            item["tier"] = 2
        if item["tier"] == 1 and not lockable:
            item["tier"] = 2
    window = draw(st.sampled_from([("00:30", "05:00"), ("22:00", "02:00"), ("01:00", "01:30")]))
    return {"destinations": dests, "datasets": items, "truenas": {"host": "nas.internal"},
            "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/key/"}},
            "schedule": {"maintenance_window": {"start": window[0], "end": window[1]}},
            "budget_usd_per_month": BUDGET_USD}


tier1_inventories = inventories().map(
    lambda inv: {**inv, "datasets": [d for d in inv["datasets"] if d["tier"] == 1] or inv["datasets"][:1]})
