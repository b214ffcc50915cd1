"""One schedule rendered in every dialect the estate speaks."""

from __future__ import annotations

import pytest
from croniter import croniter

from plan.cron import Cron, cadence_for


def test_daily_in_every_dialect():
    cron = Cron(minute_of_day=90)
    assert cron.five_field() == "30 1 * * *"
    assert cron.six_field() == "0 30 1 * * *"
    assert cron.truenas() == {"minute": "30", "hour": "1", "dom": "*", "month": "*", "dow": "*"}
    assert cron.human() == "daily at 01:30"
    assert cron.interval_hours == 24


def test_every_six_hours_lists_each_hour():
    cron = Cron(minute_of_day=4 * 60 + 5, every_hours=6)
    assert cron.five_field() == "5 4,10,16,22 * * *"
    assert cron.human() == "every 6 hours from 04:05"
    assert len(cron.starts()) == 7 * 4


def test_weekly_sunday_is_0_in_cron_and_7_in_truenas():
    cron = Cron(minute_of_day=180, weekday=0)
    assert cron.five_field() == "0 3 * * 0"
    assert cron.truenas()["dow"] == "7"
    assert cron.human() == "weekly on Sunday at 03:00"
    assert cron.interval_hours == 168


@pytest.mark.parametrize("cron", [Cron(0), Cron(725, 12), Cron(59, 1), Cron(1439, 24, 6), Cron(185, 3)])
def test_five_and_six_field_forms_are_valid_cron(cron):
    assert croniter.is_valid(cron.five_field())
    assert croniter.is_valid(cron.six_field(), second_at_beginning=True)
    assert len(cron.six_field().split()) == 6


@pytest.mark.parametrize(("rpo", "expected"), [(1, (1, False)), (5, (4, False)), (12, (12, False)),
                                               (23, (12, False)), (24, (24, False)), (100, (24, False)),
                                               (168, (24, True)), (500, (24, True))])
def test_cadence_never_exceeds_the_rpo(rpo, expected):
    assert cadence_for(rpo) == expected


def test_invalid_schedules_are_refused():
    with pytest.raises(ValueError, match="must divide 24"):
        Cron(0, every_hours=5)
    with pytest.raises(ValueError, match="outside"):
        Cron(1440)


def test_monthly_on_a_day_of_the_month_in_every_dialect():
    cron = Cron(minute_of_day=75, day_of_month=12)
    assert cron.five_field() == "15 1 12 * *"
    assert cron.truenas() == {"minute": "15", "hour": "1", "dom": "12", "month": "*", "dow": "*"}
    assert cron.human() == "monthly on day 12 at 01:15"
    assert cron.interval_hours == 24 * 31
    assert croniter.is_valid(cron.five_field())
    later = Cron(23 * 60, day_of_month=12).shifted(120)
    assert (later.minute_of_day, later.day_of_month) == (60, 13), "a shift past midnight moves to the next day"
    with pytest.raises(ValueError, match="day of the month 1..28"):
        Cron(0, day_of_month=29)
    with pytest.raises(ValueError, match="day of the month"):
        Cron(0, weekday=1, day_of_month=3)
