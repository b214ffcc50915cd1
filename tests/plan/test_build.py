"""plan/build.py: concrete derivations of the plan for the base estate (locks, lifecycle, retention forms, cost),
then the plan invariants over many generated inventories (design §4 and §5)."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import load_inventory
from inventory.tiers import DEFAULT_TIERS, Retention
from plan import build_plan
from plan.build import lifecycle_for, lock_days_for, pgbackrest_retention
from plan.stagger import SLOT_MINUTES
from providers import b2, s3_compatible
from tests.strategies import inventories


@pytest.fixture
def plan(estate):
    return build_plan(load_inventory(estate))


def test_validation_and_the_program_share_one_compiled_plan(estate, monkeypatch):
    """Validation compiles the plan to check derived names; the program's own build_plan must not compile it again
    (it did: the whole staggering ran twice per run)."""
    import plan.build

    calls = []
    real = plan.build.assign
    monkeypatch.setattr(plan.build, "assign", lambda jobs: calls.append(len(jobs)) or real(jobs))
    inventory = load_inventory(estate)
    first = build_plan(inventory)
    assert build_plan(inventory) is first
    assert len(calls) == 1, "the plan was compiled more than once for one inventory"
    again = load_inventory(estate)
    assert build_plan(again) == first and len(calls) == 2  # another inventory object compiles afresh


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


PROFILE = settings(max_examples=60, deadline=None)


@PROFILE
@given(inventories())
def test_every_tier1_dataset_has_offsite_and_two_media(raw):
    inv = load_inventory(raw)
    for dp in build_plan(inv).datasets:
        if dp.tier == 1:
            assert dp.offsite_count >= 1, dp.name
            assert len(dp.media) >= 2, dp.name
            assert dp.copy_count >= 3, dp.name


@PROFILE
@given(inventories())
def test_derived_rpo_never_exceeds_the_tier(raw):
    inv = load_inventory(raw)
    for ds, dp in zip(inv.datasets, build_plan(inv).datasets, strict=True):
        assert dp.rpo_hours <= min(inv.tier(ds.tier).rpo_hours, ds.rpo_hours or 10**6), dp.name


@PROFILE
@given(inventories())
def test_lifecycle_never_expires_current_objects_and_outlives_the_lock(raw):
    for bucket in build_plan(load_inventory(raw)).buckets:
        if bucket.lifecycle is None:
            continue
        assert 1 <= bucket.lifecycle.abort_multipart_days <= 7
        if bucket.versioning:
            assert bucket.lifecycle.noncurrent_days is not None
            assert bucket.lifecycle.noncurrent_days >= max(1, bucket.lock_days), bucket.name
        # What the bucket providers send for this lifecycle: no rule may expire or hide a current object.
        neutral = dataclasses.asdict(bucket.lifecycle)
        for rule in s3_compatible.lifecycle_rules(neutral, bucket.versioning):
            assert set(rule.get("Expiration", {})) <= {"ExpiredObjectDeleteMarker"}, bucket.name
            assert "Transitions" not in rule and "NoncurrentVersionTransitions" not in rule, bucket.name
        for rule in b2.lifecycle_rules(neutral):
            assert "daysFromUploadingToHiding" not in rule, bucket.name


@PROFILE
@given(inventories())
def test_lock_period_is_shorter_than_the_smallest_retention_window(raw):
    plan = build_plan(load_inventory(raw))
    for dp in plan.datasets:
        for copy in dp.copies:
            if copy.lock_days:
                assert copy.lock_days < copy.retention.shortest_window_days(), copy.key
                assert copy.offsite


@PROFILE
@given(inventories(max_datasets=6))
def test_jobs_on_one_destination_never_share_a_slot_when_they_fit(raw):
    plan = build_plan(load_inventory(raw))
    by_lane: dict[str, list] = {}
    for dp in plan.datasets:
        for copy in dp.copies:
            by_lane.setdefault(copy.destination, []).append(copy.schedule)
    for lane, crons in by_lane.items():
        slots = [s // SLOT_MINUTES for cron in crons for s in cron.starts()]
        assert len(slots) == len(set(slots)), f"{lane}: two jobs start in one 5-minute slot"


@PROFILE
@given(inventories(), st.randoms(use_true_random=False))
def test_same_input_same_minute_whatever_the_order(raw, rnd: random.Random):
    first = build_plan(load_inventory(raw))
    shuffled = dict(raw, datasets=rnd.sample(raw["datasets"], len(raw["datasets"])))
    second = build_plan(load_inventory(shuffled))
    schedule = {c.key: c.schedule for d in first.datasets for c in d.copies}
    assert schedule == {c.key: c.schedule for d in second.datasets for c in d.copies}


@PROFILE
@given(inventories())
def test_daily_jobs_start_inside_the_maintenance_window(raw):
    inv = load_inventory(raw)
    start, end = inv.schedule.maintenance_window.minutes()
    for dp in build_plan(inv).datasets:
        for copy in dp.copies:
            if copy.schedule.every_hours == 24:
                minute = copy.schedule.minute_of_day
                assert start <= minute < end or start <= minute + 1440 < end, copy.key
