"""Staggering: backups avoid each other per lane; checks and drills take deterministic slots after them."""

from __future__ import annotations

import pytest

from plan.cron import Cron
from plan.stagger import JobRequest, after_backups, assign, every_days


def test_jobs_in_one_lane_take_different_slots_and_keep_them():
    jobs = [JobRequest(f"ds{i}/nas", "nas", 24, False, (60, 240)) for i in range(10)]
    first, again = assign(jobs), assign(list(reversed(jobs)))
    assert first == again, "the result does not depend on inventory order"
    assert len({c.minute_of_day for c in first.values()}) == 10
    assert all(60 <= c.minute_of_day < 240 for c in first.values())


def test_after_backups_is_the_middle_of_the_first_interval_plus_the_offset():
    assert after_backups(Cron(30, 6), 0) == 30 + 180
    assert after_backups(Cron(23 * 60, 24), 120) == (23 * 60 + 720 + 120) % 1440


def test_every_days_maps_the_cadence_to_month_week_or_day_deterministically():
    monthly, weekly, daily = (every_days(75, days, "a/b/check") for days in (30, 7, 1))
    assert monthly.day_of_month is not None and 2 <= monthly.day_of_month <= 27 and monthly.weekday is None
    assert weekly.weekday is not None and weekly.day_of_month is None
    assert (daily.weekday, daily.day_of_month) == (None, None)
    assert {c.minute_of_day for c in (monthly, weekly, daily)} == {75}
    assert every_days(75, 30, "a/b/check") == monthly
    assert len({every_days(75, 30, f"dataset-{i}").day_of_month for i in range(20)}) > 5, "days spread by hash"
    with pytest.raises(ValueError, match="schedules nothing"):
        every_days(75, 0, "a")
