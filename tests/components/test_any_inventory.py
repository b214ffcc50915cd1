"""No inventory makes the program raise outside a clean RunError, and every name it registers fits its limit.

Inventories are drawn valid, then bent by the mistakes new users make (long names, odd paths and URLs, short
locks, tight windows). Whatever the inventory accepts must then run to the end under mocks; whatever it refuses
must be refused as a RunError with a message, before anything is registered.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inventory.names import CRONJOB_LIMIT, NAME_LIMIT
from tests.components.harness import run_estate
from tests.mocks import RecordingMonitor, ServiceMocks
from tests.strategies import inventories

ENV = {"HLB_B2_0_KEY_ID": "x", "HLB_B2_0_KEY": "y", "HLB_B2_1_KEY_ID": "x", "HLB_B2_1_KEY": "y",
       "HLB_B2_2_KEY_ID": "x", "HLB_B2_2_KEY": "y", "HLB_TRUENAS_API_KEY": "k",
       **{f"HLB_COMPAT_{i}_{f}": "v" for i in range(3) for f in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY")},
       "HLB_NAS_S3_ACCESS_KEY_ID": "a", "HLB_NAS_S3_SECRET_ACCESS_KEY": "b"}

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


def _names(registered) -> list[tuple[str, str]]:
    names = []
    for r in registered:
        metadata = r.inputs.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
            names.append((r.inputs.get("kind") or r.typ, metadata["name"]))
    return names


@pytest.mark.slow  # 40 whole-program runs under mocks: 10-35 s
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bent_inventories())
def test_the_program_either_runs_or_stops_cleanly(raw):
    config = {f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()}
    monitor = RecordingMonitor(ServiceMocks())
    try:
        registered, _ = run_estate("test", config=config, env=ENV, monitor=monitor)
    except pulumi.RunError as exc:
        assert str(exc), "a RunError must say what is wrong"
        assert monitor.requests == [], "a refused inventory must register nothing"
        event(f"refused: {type(exc).__name__}")
        return
    event("ran")
    for kind, name in _names(registered):
        limit = CRONJOB_LIMIT if kind.endswith("CronJob") else NAME_LIMIT
        assert len(name) <= limit, f"{kind} {name!r} is over {limit} characters"
    iam = [r.inputs["name"] for r in registered if r.typ == "aws:iam/user:User"]
    assert all(len(n) <= 64 for n in iam)
