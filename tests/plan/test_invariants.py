"""Plan invariants over many generated inventories (design §4 and §5)."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import load_inventory
from plan import build_plan
from plan.stagger import SLOT_MINUTES
from providers import b2, s3_compatible
from tests.strategies import inventories

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
