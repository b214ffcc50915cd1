"""Named hypothesis strategies: valid inventories of every shape the plan must handle."""

from __future__ import annotations

import copy
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
    kind = draw(st.sampled_from(("pvc", "postgres", "truenas", "host")))
    chosen_tier = tier or draw(st.sampled_from((1, 2, 3)))
    if kind == "postgres" and chosen_tier == 3:
        chosen_tier = 2  # a tier 3 database has no local object store to go to: the inventory refuses it
    name = f"ds-{index}"
    if kind == "pvc":
        source = {"kind": "pvc", "namespace": f"ns{index % 7}", "claim": f"data-{index}", "storage_class": "ceph-block",
                  "capacity": "10Gi", "mover": draw(st.sampled_from(("restic", "kopia", "kopiur")))}
    elif kind == "postgres":
        source = {"kind": "postgres", "namespace": "database", "cluster": f"pg-{index}"}
    elif kind == "host":
        source = {"kind": "host", "hostname": f"host{index}.lan", "os": draw(st.sampled_from(("nixos", "systemd"))),
                  "paths": [f"/srv/data{index}", "/etc"], "one_file_system": draw(st.booleans())}
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


INVENTORY_ENV = {"HLB_B2_0_KEY_ID": "x", "HLB_B2_0_KEY": "y", "HLB_B2_1_KEY_ID": "x", "HLB_B2_1_KEY": "y",
       "HLB_B2_2_KEY_ID": "x", "HLB_B2_2_KEY": "y", "HLB_TRUENAS_API_KEY": "k",
       **{f"HLB_COMPAT_{i}_{f}": "v" for i in range(3) for f in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY")},
       "HLB_NAS_S3_ACCESS_KEY_ID": "a", "HLB_NAS_S3_SECRET_ACCESS_KEY": "b"}
"""Admin credentials any drawn inventory may need, as a pipeline would export them."""

TEXT = st.text(alphabet="abz09-_./'$\"`\\", min_size=0, max_size=30)
"""Path and URL fragments with the characters shells and tools trip over (no whitespace: patterns refuse it)."""
PING_BASES = st.one_of(st.sampled_from(["https://hc-ping.com/", "https://hc-ping.com/key/", "https://hc.lan/ping/",
                                        "https://hc.lan/ping/k'ey/", "http://hc.lan/ping/$(reboot)/",
                                        "https://hc.lan/ping/key/?x=1/"]),
                       TEXT.map(lambda t: f"https://hc.lan/{t}/"))
SQLITE_PATHS = st.one_of(st.sampled_from(["app.db", "../app.db", "/data/app.db", "data/", "it's.db", "a/../../b"]),
                         TEXT)


@st.composite
def bent_inventories(draw) -> dict[str, Any]:
    """A valid inventory with up to four things bent the way users bend them."""
    inv = copy.deepcopy(draw(inventories(max_datasets=5)))
    datasets = inv["datasets"]
    for _ in range(draw(st.integers(0, 4))):
        ds = draw(st.sampled_from(datasets))
        source = ds["source"]
        bend = draw(st.sampled_from(["name", "namespace", "claim", "dataset", "ping", "lock", "timezone", "window",
                                     "prefix", "mover", "dup-source", "export", "recursive", "storage"]))
        if bend == "name":
            ds["name"] = draw(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", fullmatch=True))
        elif bend == "namespace" and "namespace" in source:
            source["namespace"] = draw(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True))
        elif bend == "claim" and source["kind"] == "pvc":
            source["claim"] = draw(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True))
        elif bend == "dataset" and source["kind"] == "truenas":
            source["dataset"] = "tank/" + draw(st.from_regex(r"[A-Za-z0-9_. -]{1,20}(/[A-Za-z0-9_. -]{1,10})?",
                                                             fullmatch=True))
        elif bend == "ping":
            inv["monitoring"]["healthchecks"]["ping_base"] = draw(PING_BASES)
        elif bend == "lock":
            tier = draw(st.sampled_from(["1", "2"]))
            inv["tiers"] = {tier: {
                "rpo_hours": 12, "offsite_rpo_hours": 24, "lock_days": draw(st.integers(0, 40)),
                "verify_every_days": 7, "drill_every_days": draw(st.integers(0, 60)),
                "alerts": ["out-of-sync", "missed-run", "never-ran"],
                "local_retention": {"hourly": 48, "daily": 30, "monthly": 6},
                "offsite_retention": {"daily": draw(st.integers(1, 40)), "monthly": draw(st.integers(0, 12))}}}
        elif bend == "timezone":
            inv["schedule"]["timezone"] = draw(st.sampled_from(["Europe/Berlin", "America/New_York", "UTC",
                                                                "Mars/Olympus", "Asia/Kolkata", ""]))
        elif bend == "window":
            start, end = draw(st.tuples(st.integers(0, 23), st.integers(0, 23)))
            inv["schedule"]["maintenance_window"] = {"start": f"{start:02d}:05", "end": f"{end:02d}:00"}
        elif bend == "prefix":
            dest = draw(st.sampled_from(inv["destinations"]))
            dest["bucket_prefix"] = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{1,40}", fullmatch=True))
        elif bend == "mover" and source["kind"] == "pvc":
            source["mover"] = "kopia"
        elif bend == "dup-source":
            datasets.append({**copy.deepcopy(ds), "name": ds["name"][:30] + "-again"})
        elif bend == "export":
            targets = [d["name"] for d in datasets if d["source"]["kind"] == "truenas"]
            datasets.append({"name": "dump", "tier": 2, "size_gb": 1, "source": {
                "kind": "export", "engine": "sqlite", "namespace": "apps",
                "target": targets[0] if targets else "missing", "sqlite_claim": "app",
                "sqlite_path": draw(SQLITE_PATHS) or "app.db"}})
        elif bend == "recursive" and source["kind"] == "truenas":
            source["recursive"] = True
            source["dataset"] = "tank"
        elif bend == "storage" and source["kind"] == "pvc":
            source["storage_class"] = draw(st.sampled_from(["local-path", "ceph-block", "nfs-client", "longhorn"]))
            source["copy_method"] = draw(st.sampled_from(["Snapshot", "Clone", "Direct"]))
    return inv
