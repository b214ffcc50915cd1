"""Schedules in the three dialects the estate uses, reduced to what policies need: the longest gap and the start slots.

Dialects (apis.md §8.1): VolSync, KopiaMaintenance and Kubernetes CronJobs use 5-field cron; CloudNativePG
ScheduledBackups use robfig cron with a leading seconds field (6 fields); TrueNAS tasks use an object
`{minute, hour, dom, month, dow}` (plus `begin`/`end` for snapshot tasks) whose weekday runs 1 (Mon) to 7 (Sun),
which standard cron reads the same way (0 and 7 are Sunday).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_NAMES = {
    3: {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                           "dec"))},
    4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_EVERY = re.compile(r"^@every\s+((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_CALENDAR_START = dt.date(2025, 1, 1)
_CALENDAR_DAYS = 4 * 365 + 1
"""Four years (one leap day): every calendar-restricted schedule shows its longest gap inside this span."""


class CronError(ValueError):
    """A schedule that cannot be read; the message says which field and why."""


@dataclass(frozen=True)
class Schedule:
    """When a job starts: allowed values per field, in standard cron semantics."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None
    """Days of month; None = any."""
    months: frozenset[int] | None
    """Months; None = any."""
    weekdays: frozenset[int] | None
    """0 = Sunday .. 6 = Saturday; None = any."""
    window: tuple[int, int] | None = None
    """TrueNAS begin/end: only starts within [begin, end] minutes of the day."""
    every_minutes: float | None = None
    """robfig `@every` schedules: a fixed period instead of fields."""

    @property
    def calendar(self) -> bool:
        """Restricted by day of month or month: the gap must be measured over real calendars."""
        return self.days is not None or self.months is not None

    def day_starts(self) -> list[int]:
        """Minutes of the day at which the job starts on a day it runs."""
        starts = sorted(h * 60 + m for h in self.hours for m in self.minutes)
        if self.window is not None:
            begin, end = self.window
            starts = [s for s in starts if begin <= s <= end]
        return starts

    def week_starts(self) -> list[int]:
        """Minutes of the week (0 = Sunday 00:00) at which it starts, reading monthly jobs as daily (for slots)."""
        if self.every_minutes is not None:
            period = max(1.0, self.every_minutes)
            return [int(k * period) for k in range(int(WEEK_MINUTES // period) + 1) if k * period < WEEK_MINUTES]
        per_day = self.day_starts()
        weekdays = range(7) if self.weekdays is None or self.days is not None else sorted(self.weekdays)
        return [d * DAY_MINUTES + s for d in weekdays for s in per_day]

    def max_gap_hours(self) -> float | None:
        """Longest time between two consecutive starts (the recovery point this schedule guarantees); None = never."""
        return _max_gap_hours(self)

    def _max_gap_hours(self) -> float | None:
        if self.every_minutes is not None:
            return self.every_minutes / 60
        if not self.calendar:
            week = self.week_starts()
            if not week:
                return None
            gaps = [b - a for a, b in zip(week, week[1:], strict=False)] + [week[0] + WEEK_MINUTES - week[-1]]
            return max(gaps) / 60
        per_day = self.day_starts()
        if not per_day:
            return None
        starts: list[int] = []
        for offset in range(_CALENDAR_DAYS):
            day = _CALENDAR_START + dt.timedelta(days=offset)
            if self._runs_on(day):
                starts.extend(offset * DAY_MINUTES + s for s in per_day)
        if not starts:
            return None
        if len(starts) == 1:
            return _CALENDAR_DAYS * 24.0  # once in four years (29 February): at least the whole span
        return max(b - a for a, b in zip(starts, starts[1:], strict=False)) / 60

    def _runs_on(self, day: dt.date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        weekday = (day.weekday() + 1) % 7
        dom_ok = self.days is None or day.day in self.days
        dow_ok = self.weekdays is None or weekday in self.weekdays
        if self.days is not None and self.weekdays is not None:
            return dom_ok or dow_ok  # cron: both restricted means either matches
        return dom_ok and dow_ok


@functools.lru_cache(maxsize=4096)
def _max_gap_hours(schedule: Schedule) -> float | None:
    """Memoized: estates repeat a handful of schedules, and calendar schedules walk four years of days."""
    return schedule._max_gap_hours()


def _parse_field(text: str, index: int) -> frozenset[int] | None:
    """One field; None when it allows every value (`*` or `?`)."""
    label, low, high = _FIELDS[index]
    text = text.strip().lower()
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{label} field has step {step_text!r}; use a positive number")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, index), _value(last, index)
        else:
            start = _value(part, index)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{label} field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def _value(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"{_FIELDS[index][0]} field has {text!r}, which is not a number")
    return int(text)


def _from_fields(text: str, fields: list[str], window: tuple[int, int] | None = None) -> Schedule:
    minutes = _parse_field(fields[0], 0)
    hours = _parse_field(fields[1], 1)
    return Schedule(
        text=text,
        minutes=minutes if minutes is not None else frozenset(range(60)),
        hours=hours if hours is not None else frozenset(range(24)),
        days=_parse_field(fields[2], 2),
        months=_parse_field(fields[3], 3),
        weekdays=_parse_field(fields[4], 4),
        window=window,
    )


def field_count(expr: str) -> int:
    """How many whitespace-separated fields a cron string has (macros count as 0)."""
    stripped = expr.strip()
    return 0 if stripped.startswith("@") else len(stripped.split())


def parse_cron(expr: str, seconds: bool = False) -> Schedule:
    """A 5-field cron, or with `seconds` a 6-field robfig cron (its seconds field only shifts starts)."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("schedule is empty")
    text = expr.strip()
    lowered = text.lower()
    if lowered in _MACROS:
        return _from_fields(text, _MACROS[lowered].split())
    every = _EVERY.match(lowered)
    if every:
        minutes = sum(float(n) * {"h": 60, "m": 1, "s": 1 / 60, "ms": 1 / 60000}[u]
                      for n, u in _DURATION_PART.findall(every.group(1)))
        return Schedule(text, frozenset(), frozenset(), None, None, None, every_minutes=minutes)
    fields = text.split()
    expected = 6 if seconds else 5
    if len(fields) != expected:
        raise CronError(f"{text!r} has {len(fields)} fields; this dialect needs {expected}")
    if seconds:
        second = fields[0]
        if not (second in ("*", "?") or all(p.isdigit() and int(p) <= 59 for p in second.split(","))):
            raise CronError(f"seconds field {second!r} is not a second (0-59)")
        fields = fields[1:]
    return _from_fields(text, fields)


def _clock(value: Any, name: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise CronError(f"{name} {value!r} is not HH:MM")
    hours, minutes = value.strip().split(":")
    return int(hours) * 60 + int(minutes)


def parse_truenas(schedule: Mapping[str, Any]) -> Schedule:
    """A TrueNAS schedule object; missing fields take the API defaults (minute 00, every hour, every day)."""
    if not isinstance(schedule, Mapping):
        raise CronError(f"schedule {schedule!r} is not a {{minute, hour, dom, month, dow}} object")
    defaults = {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}
    fields = [str(schedule.get(k, d)) for k, d in defaults.items()]
    window = None
    if "begin" in schedule or "end" in schedule:
        window = (_clock(schedule.get("begin", "00:00"), "begin"), _clock(schedule.get("end", "23:59"), "end"))
    text = " ".join(fields)
    return _from_fields(text, fields, window)


def describe(hours: float) -> str:
    """A gap in the unit people think in: `6 h`, `2 d`, `31 d`."""
    if hours < 48:
        return f"{hours:g} h"
    return f"{hours / 24:g} d"
