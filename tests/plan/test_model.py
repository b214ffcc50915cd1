"""plan/model.py: the plan records' derived values and look-ups, over the base estate's plan."""

from __future__ import annotations

import pytest

from inventory import load_inventory
from plan import build_plan
from plan.names import bucket_key


@pytest.fixture
def plan(estate):
    return build_plan(load_inventory(estate))


def test_copy_counts_include_the_primary_and_count_offsite_copies(plan):
    for dp in plan.datasets:
        assert dp.copy_count == len(dp.copies) + 1, dp.name
        assert dp.offsite_count == len([c for c in dp.copies if c.offsite]), dp.name
    assert any(dp.offsite_count for dp in plan.datasets) and any(
        dp.offsite_count < len(dp.copies) for dp in plan.datasets), "the base estate has both kinds of copy"


def test_keys_follow_the_one_naming(plan):
    for bucket in plan.buckets:
        assert bucket.key == bucket_key(bucket.destination, bucket.tier)
    for dp in plan.datasets:
        assert [c.key for c in dp.copies] == [f"{dp.name}-{c.destination}" for c in dp.copies]


def test_look_ups_find_the_record_and_refuse_an_unknown_one(plan):
    first = plan.datasets[0]
    assert plan.dataset(first.name) is first
    assert plan.unit(first.name).dataset == first.name
    bucket = plan.buckets[0]
    assert plan.bucket(bucket.destination, bucket.tier) is bucket
    with pytest.raises(KeyError, match="no-such-dataset"):
        plan.dataset("no-such-dataset")
    with pytest.raises(KeyError, match="no-such-dataset"):
        plan.unit("no-such-dataset")
