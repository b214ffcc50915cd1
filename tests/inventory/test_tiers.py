"""Tier defaults and the bounds an override may not cross: the defaults keep their own bounds, and each bound
names the field it protects and the value to write."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inventory.tiers import DEFAULT_TIERS, TIER_BOUNDS, Retention, TierSettings


@pytest.mark.parametrize("tier", sorted(DEFAULT_TIERS))
def test_the_defaults_keep_their_own_bounds(tier: int) -> None:
    assert list(TIER_BOUNDS[tier].check(DEFAULT_TIERS[tier])) == []


def test_every_bound_a_tier_1_override_can_break_is_named_with_its_fix() -> None:
    weak = DEFAULT_TIERS[1].model_copy(update={
        "rpo_hours": 24, "local_retention": Retention(hourly=48, daily=7, monthly=6), "lock_days": 0,
        "verify_every_days": 30, "alerts": ("out-of-sync",)})
    assert list(TIER_BOUNDS[1].check(weak)) == [
        (("rpo_hours",), "24 h exceeds this tier's ceiling of 12 h; use 12 or less"),
        (("local_retention", "daily"), "keeps 7, below this tier's minimum of 14; use 14 or more"),
        (("lock_days",), "offsite copies of this tier must be locked; set lock_days to at least 1 (default 14)"),
        (("verify_every_days",), "must be between 1 and 7"),
        (("alerts",), "missing required alerts ['missed-run', 'never-ran']; add them"),
    ]


def test_retention_windows_reach_back_as_far_as_their_longest_and_shortest_level() -> None:
    retention = Retention(hourly=48, daily=30, monthly=6)
    assert retention.levels() == {"hourly": 48, "daily": 30, "monthly": 6}
    assert retention.window_days() == 180.0
    assert retention.shortest_window_days() == 2.0
    assert Retention().window_days() == 0.0


def test_tier_settings_are_strict() -> None:
    with pytest.raises(ValidationError):
        TierSettings.model_validate({**DEFAULT_TIERS[2].model_dump(), "rpo_hour": 24})
    with pytest.raises(ValidationError):
        Retention(daily=-1)
