"""Time zones: the maintenance window is local time; the schedules the plan emits are UTC.

VolSync (robfig/cron v3, `internal/controller/statemachine/machine.go`) and CloudNativePG read their crons in the
controller's own zone, which is UTC in their images, and the policy pack reads plain crons without a `CRON_TZ=`
prefix. So the plan places every job in UTC, inside the part of the window that is local in both standard and
daylight time: a UTC start `u` is chosen with `u + smallest offset >= start` and `u + largest offset < end`. Each
schedule then lands in the window all year; across a daylight-saving change it moves by the DST shift (one hour)
inside it. Kubernetes CronJobs say `timeZone: Etc/UTC`; TrueNAS tasks run in the NAS's zone and are converted to it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from plan.cron import DAY_MINUTES

SAMPLE_YEAR = 2026


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine's tz database knows."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _known_zones() or name == "UTC"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The tz database's zone names: `available_timezones` walks the whole database on every call (30 ms)."""
    return frozenset(available_timezones())


@lru_cache(maxsize=64)
def utc_offsets(zone: str) -> tuple[int, int]:
    """(smallest, largest) UTC offset of the zone over a year, in minutes (equal where there is no DST)."""
    tz = ZoneInfo(zone)
    start = dt.datetime(SAMPLE_YEAR, 1, 1, 12, tzinfo=dt.UTC)
    offsets = {int(tz.utcoffset((start + dt.timedelta(days=d)).replace(tzinfo=None)).total_seconds() // 60)
               for d in range(366)}
    return min(offsets), max(offsets)


def dst_shift(zone: str) -> int:
    """Minutes a fixed UTC time moves on the local clock across the zone's daylight-saving change."""
    low, high = utc_offsets(zone)
    return high - low


def utc_window(local: tuple[int, int], zone: str) -> tuple[int, int]:
    """The UTC start minutes [start, end) whose local time is inside the local window in every season.

    `local` is (start, end) in minutes of the local day, end > start (it may pass midnight). The result starts in
    0..1439 and may pass midnight too; it is empty (end <= start) when the window is shorter than the DST shift.
    """
    low, high = utc_offsets(zone)
    start = local[0] - low
    end = local[1] - high
    shift = start - start % DAY_MINUTES
    return start - shift, end - shift
