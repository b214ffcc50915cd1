"""PVE/PBS calendar events (a subset of systemd.time(7)), reduced to what policies need: the longest gap between runs.

The pack imports nothing of the program, so this is the pack's own reading of the format (pve-docs "Schedule
Format"): `[WEEKDAY] [[YEAR-]MONTH-DAY] [HOUR:MINUTE]`, the names daily, weekly..., and a bare minute spec (`*/5`).
"""

from __future__ import annotations

import functools
import re

DAY_MINUTES = 24 * 60
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAMED = {"minutely": "*:*", "hourly": "*:00", "daily": "00:00", "weekly": "mon 00:00", "monthly": "*-*-01 00:00",
          "yearly": "*-01-01 00:00", "annually": "*-01-01 00:00", "quarterly": "*-01,04,07,10-01 00:00",
          "semiannually": "*-01,07-01 00:00"}


def _values(spec: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for item in spec.split(","):
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(item)
        if base == "*":
            start, end = low, high
        elif re.fullmatch(r"\d+\.\.\d+", base):
            start, end = (int(x) for x in base.split(".."))
        elif base.isdigit():
            start, end = int(base), high if step else int(base)
        else:
            raise ValueError(item)
        if not low <= start <= end <= high:
            raise ValueError(item)
        values |= set(range(start, end + 1, int(step or 1)))
    return values


def _weekdays(spec: str) -> set[int]:
    days: set[int] = set()
    for item in spec.lower().split(","):
        first, dots, last = item.partition("..")
        ends = [d[:3] for d in ((first, last) if dots else (first,))]
        if any(e not in _DAYS for e in ends):
            raise ValueError(item)
        a, b = _DAYS.index(ends[0]), _DAYS.index(ends[-1])
        days |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(b + 1))
    return days


@functools.lru_cache(maxsize=512)
def longest_gap_hours(event: str) -> float | None:
    """Hours of the longest gap between two runs of `event` (744 when a date narrows it), or None if unparseable."""
    text = _NAMED.get(event.strip(), event.strip())
    tokens = text.split()
    try:
        days, hours, minutes, dated = set(range(7)), {0}, {0}, False
        for token in tokens:
            if re.match(r"[A-Za-z]", token):
                days = _weekdays(token)
            elif "-" in token:
                dated = any(part != "*" for part in token.split("-"))
            elif ":" in token:
                parts = token.split(":")
                hours, minutes = _values(parts[0], 0, 23), _values(parts[1], 0, 59)
            else:
                hours, minutes = set(range(24)), _values(token, 0, 59)
    except (ValueError, IndexError):
        return None
    if not tokens:
        return None
    if dated:
        return 24 * 31
    starts = sorted(d * DAY_MINUTES + h * 60 + m for d in days for h in hours for m in minutes)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)] + [starts[0] + 7 * DAY_MINUTES - starts[-1]]
    return max(gaps) / 60
