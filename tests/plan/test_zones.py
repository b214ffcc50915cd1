"""Time zones: every daily schedule lands inside the local maintenance window on both sides of a DST change, in
every dialect (VolSync and CNPG crons read in UTC, Kubernetes CronJobs with timeZone, TrueNAS in the NAS's zone)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inventory import load_inventory
from manifests import exports, pgbackrest, volsync
from plan import build_plan
from plan.zones import dst_shift, utc_offsets, utc_window
from tests.components.harness import run_estate

DST_CHANGES = {
    # zone: (window, dates either side of the spring and autumn changes)
    "Europe/Berlin": (("21:00", "23:30"), ["2026-03-28", "2026-03-30", "2026-10-24", "2026-10-26"]),
    "America/New_York": (("01:00", "05:00"), ["2026-03-07", "2026-03-09", "2026-10-31", "2026-11-02"]),
    "Australia/Sydney": (("22:00", "02:00"), ["2026-04-04", "2026-04-06", "2026-10-03", "2026-10-05"]),
    "Asia/Kolkata": (("00:30", "01:00"), ["2026-01-15", "2026-07-15"]),
}

ESTATE: dict[str, Any] = {
    "truenas": {"host": "nas.internal"},
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/ping-key/"}},
    "destinations": [
        {"name": "nas", "kind": "nfs", "server": "nas.internal", "path": "/mnt/tank/backups"},
        {"name": "minio", "kind": "s3-compatible", "endpoint": "https://minio.lan", "flavour": "minio",
         "offsite": False},
        {"name": "b2", "kind": "b2", "region": "us-west-004"},
    ],
    "datasets": [
        {"name": "app", "tier": 2, "size_gb": 1, "source": {"kind": "pvc", "namespace": "apps", "claim": "app",
                                                            "storage_class": "ceph-block", "capacity": "1Gi"}},
        {"name": "db", "tier": 2, "size_gb": 1, "source": {"kind": "postgres", "namespace": "db", "cluster": "pg"}},
        {"name": "files", "tier": 2, "size_gb": 1, "source": {"kind": "truenas", "dataset": "tank/files"}},
        {"name": "dump", "tier": 2, "size_gb": 1,
         "source": {"kind": "export", "engine": "sqlite", "namespace": "apps", "target": "files",
                    "sqlite_claim": "app", "sqlite_path": "app.db"}},
    ],
}
TRUENAS_DOW = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 0}


def _estate(zone: str, nas_zone: str | None = None) -> dict[str, Any]:
    raw = copy.deepcopy(ESTATE)
    (start, end), _ = DST_CHANGES[zone]
    raw["schedule"] = {"timezone": zone, "maintenance_window": {"start": start, "end": end}}
    if nas_zone:
        raw["truenas"]["timezone"] = nas_zone
    return raw


def _local_minute(day: str, hour: int, minute: int, clock: str, zone: str) -> int:
    """Minute of the local day in `zone` at which a job set to hour:minute on `clock`'s clock fires on `day`."""
    fired = dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ZoneInfo(clock))
    local = fired.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


def _inside(zone: str, minute: int) -> bool:
    (start, end), _ = DST_CHANGES[zone]
    lo = int(start[:2]) * 60 + int(start[3:])
    hi = int(end[:2]) * 60 + int(end[3:])
    if hi <= lo:
        hi += 24 * 60
    return lo <= minute < hi or lo <= minute + 24 * 60 < hi


def _assert_daily_in_window(five: str, clock: str, zone: str, what: str) -> None:
    minute, hour, *_ = five.split()
    assert hour.isdigit(), f"{what}: {five!r} is not a daily schedule"
    for day in DST_CHANGES[zone][1]:
        local = _local_minute(day, int(hour), int(minute), clock, zone)
        at = f"{local // 60:02d}:{local % 60:02d}"
        assert _inside(zone, local), f"{what} {five!r} ({clock}) runs at {at} in {zone} on {day}, outside the window"


@pytest.mark.parametrize("zone", sorted(DST_CHANGES))
def test_volsync_cnpg_and_cronjob_schedules_stay_in_the_local_window(zone):
    inv = load_inventory(_estate(zone))
    plan = build_plan(inv)
    app, db, dump = (plan.unit(inv.datasets[i].name) for i in (0, 1, 3))
    for c in plan.dataset("app").copies:
        rs = volsync.replication_source(app, c, inv.kubernetes)
        _assert_daily_in_window(rs["spec"]["trigger"]["schedule"], "UTC", zone, "VolSync ReplicationSource")
    for i, c in enumerate(plan.dataset("db").copies, start=1):
        for backup in pgbackrest.scheduled_backups(db, c, i):
            six = backup["spec"]["schedule"]
            assert six.split()[0] == "0"
            _assert_daily_in_window(" ".join(six.split()[1:]), "UTC", zone, "CNPG ScheduledBackup")
    job = exports.export_cronjob(dump, nas=inv.truenas)
    assert job["spec"]["timeZone"] == "Etc/UTC"
    _assert_daily_in_window(job["spec"]["schedule"], job["spec"]["timeZone"], zone, "CronJob")


@pytest.mark.parametrize(("zone", "nas_zone"), [("Europe/Berlin", None), ("Europe/Berlin", "UTC"),
                                                ("America/New_York", None), ("Australia/Sydney", None)])
def test_truenas_tasks_run_in_the_nas_zone_inside_the_window(zone, nas_zone):
    raw = _estate(zone, nas_zone)
    config = {f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()}
    registered, _ = run_estate("test", config=config, env={"HLB_B2_KEY_ID": "i", "HLB_B2_KEY": "k",
                                                           "HLB_MINIO_ACCESS_KEY_ID": "a",
                                                           "HLB_MINIO_SECRET_ACCESS_KEY": "b",
                                                           "HLB_TRUENAS_API_KEY": "n"})
    tasks = [r for r in registered if r.typ.endswith(("truenas:CloudSyncTask", "truenas:SnapshotTask"))]
    assert {r.typ.rsplit(":", 1)[1] for r in tasks} == {"CloudSyncTask", "SnapshotTask"}
    for task in tasks:
        s = task.inputs["schedule"]
        if s["hour"] == "*" or "," in s["hour"]:
            continue  # sub-daily levels are not bound to the window
        assert s["dow"] == "*" or s["dow"] in TRUENAS_DOW
        _assert_daily_in_window(f"{s['minute']} {s['hour']} * * *", nas_zone or zone, zone, task.urn)


def test_utc_window_narrows_by_the_dst_shift():
    assert utc_offsets("Europe/Berlin") == (60, 120)
    assert dst_shift("Asia/Kolkata") == 0
    assert utc_window((21 * 60, 23 * 60 + 30), "Europe/Berlin") == (20 * 60, 21 * 60 + 30)
    assert utc_window((30, 300), "UTC") == (30, 300)
    assert utc_window((60, 300), "America/New_York") == (60 + 300, 300 + 240)
