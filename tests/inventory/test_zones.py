"""Zones are IANA names, and the window must hold a start in both DST seasons."""

from __future__ import annotations

from inventory import load_inventory
from tests.inventory.problems import problems

UNKNOWN = ("is not an IANA time zone; use a name such as `Europe/Berlin`, `America/New_York` or `UTC` "
           "(`timedatectl list-timezones` lists them)")


def test_unknown_schedule_zone(estate):
    estate["schedule"] = {"timezone": "Mars/Olympus"}
    assert problems(estate) == [("schedule.timezone", "rule", f"'Mars/Olympus' {UNKNOWN}")]


def test_offset_string_is_not_a_zone(estate):
    estate["schedule"] = {"timezone": "+02:00"}
    assert problems(estate) == [("schedule.timezone", "rule", f"'+02:00' {UNKNOWN}")]


def test_unknown_nas_zone(estate):
    estate["truenas"]["timezone"] = "Europe/Berlinn"
    assert problems(estate) == [("truenas.timezone", "rule", f"'Europe/Berlinn' {UNKNOWN}")]


def test_window_shorter_than_the_dst_shift(estate):
    estate["schedule"] = {"timezone": "Europe/Berlin", "maintenance_window": {"start": "21:00", "end": "21:30"}}
    assert problems(estate) == [("schedule.maintenance_window", "rule",
                                 "21:00-21:30 in Europe/Berlin is 30 minutes, but controllers read cron in UTC and "
                                 "daylight saving moves a UTC time by 60 minutes on the local clock; widen the window "
                                 "to at least 65 minutes (e.g. end at 22:05)")]


def test_short_window_is_fine_without_dst(estate):
    estate["schedule"] = {"timezone": "Asia/Kolkata", "maintenance_window": {"start": "21:00", "end": "21:30"}}
    assert load_inventory(estate).schedule.timezone == "Asia/Kolkata"
