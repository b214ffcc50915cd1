"""Concrete derivations of the plan for the base estate: locks, lifecycle, retention forms, cost."""

from __future__ import annotations

import pytest

from inventory import load_inventory
from inventory.tiers import DEFAULT_TIERS, Retention
from plan import build_plan
from plan.build import lifecycle_for, lock_days_for, pgbackrest_retention


@pytest.fixture
def plan(estate):
    return build_plan(load_inventory(estate))


def test_lock_is_the_tiers_and_below_the_shortest_offsite_window():
    tier1 = DEFAULT_TIERS[1]
    assert lock_days_for(tier1, offsite=True, lock_supported=True) == 14
    assert lock_days_for(tier1, offsite=False, lock_supported=True) == 0
    assert lock_days_for(tier1, offsite=True, lock_supported=False) == 0
    short = tier1.model_copy(update={"offsite_retention": Retention(daily=10, monthly=12)})
    assert lock_days_for(short, offsite=True, lock_supported=True) == 9


def test_lifecycle_keeps_current_objects_and_outlives_the_lock():
    assert lifecycle_for(versioning=True, lifecycle_supported=True, lock_days=14).noncurrent_days == 15
    assert lifecycle_for(versioning=True, lifecycle_supported=True, lock_days=0).noncurrent_days == 1
    assert lifecycle_for(versioning=False, lifecycle_supported=True, lock_days=14).noncurrent_days is None
    assert lifecycle_for(versioning=True, lifecycle_supported=False, lock_days=14) is None


def test_pgbackrest_keeps_weekly_fulls_covering_the_window_and_diffs_covering_the_lock():
    assert pgbackrest_retention(Retention(daily=30, monthly=12)) == (53, 7)
    assert pgbackrest_retention(Retention(daily=14)) == (3, 7)
    # Differentials every 12 h under a 14-day lock: 15 days of them (30), never expired while locked.
    assert pgbackrest_retention(Retention(daily=30, monthly=12), diff_every_hours=12, lock_days=14) == (53, 30)


def test_one_repository_per_pvc_and_destination(plan):
    vaultwarden = plan.dataset("vaultwarden")
    assert [(c.destination, c.bucket, c.repository) for c in vaultwarden.copies] == [
        ("nas", "hlb-nas-tier1", "volsync/vaultwarden/vaultwarden-data"),
        ("b2", "hlb-b2-tier1", "volsync/vaultwarden/vaultwarden-data"),
        ("r2", "hlb-r2-tier1", "volsync/vaultwarden/vaultwarden-data"),
    ]
    keys = [(c.bucket, c.repository) for d in plan.datasets for c in d.copies if c.tool in ("restic", "kopia")]
    assert len(keys) == len(set(keys))


def test_truenas_snapshot_task_per_gfs_level(plan):
    photos = plan.dataset("photos")
    assert [(s.level, s.lifetime_value, s.lifetime_unit) for s in photos.snapshots] == [
        ("hourly", 48, "HOUR"), ("daily", 30, "DAY"), ("monthly", 6, "MONTH")]
    assert len({s.naming_schema for s in photos.snapshots}) == 3
    assert photos.snapshots[2].schedule["dom"] == "1"


def test_export_copies_are_the_dump_plus_its_targets_copies(plan):
    dump = plan.dataset("grafana-db")
    assert [c.destination for c in dump.copies] == ["photos", "b2", "r2"]
    assert dump.copies[1].repository == "truenas/storage0/photos/grafana-db"


def test_cost_is_size_times_retained_growth_times_price(plan):
    # B2 tier 1 holds vaultwarden (2 GB), immich-db (10 GB) and photos (500 GB); each grows 1%/day over the
    # longest offsite window (12 monthly = 360 days): 512 GB x 4.6 = 2355.2 GB at $6/TB-month.
    assert plan.monthly_cost_usd["b2"] == round(512 * (1 + 0.01 * 360) / 1000 * 6, 2) == 14.13
    assert plan.monthly_cost_usd["nas"] == 0.0


def test_buckets_per_destination_and_tier_with_one_writer_per_tool_instance(plan):
    assert sorted(b.name for b in plan.buckets) == ["hlb-b2-tier1", "hlb-r2-tier1"]
    b2 = plan.bucket("b2", 1)
    assert [w.key for w in b2.writers] == ["vaultwarden-restic", "immich-db-pgbackrest", "photos-cloudsync"]
    assert b2.lock_days == 14 and b2.lifecycle.noncurrent_days == 15
    r2 = plan.bucket("r2", 1)
    # R2 lock rules refuse the tools' overwrites and deletes (tests/drills/test_r2_lock_drill.py): no lock on R2.
    assert (r2.lock_days, r2.versioning, r2.lifecycle.noncurrent_days) == (0, False, None)
    assert all(c.lock_days == 0 for d in plan.datasets for c in d.copies if c.kind == "r2")
