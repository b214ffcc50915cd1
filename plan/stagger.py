"""Deterministic staggering: same input, same minute; jobs sharing a destination avoid each other's slot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from plan.cron import DAY_MINUTES, Cron

SLOT_MINUTES = 5
WEEK_SLOTS = 7 * DAY_MINUTES // SLOT_MINUTES


@dataclass(frozen=True)
class JobRequest:
    """A recurring job that needs a start time."""

    key: str
    """Stable identity (dataset/destination/role): the hash seed, so the minute never drifts."""
    lane: str
    """Jobs in one lane (a destination) must not start in the same 5-minute slot when avoidable."""
    every_hours: int
    weekly: bool
    window: tuple[int, int] | None
    """For daily and weekly jobs: allowed first-start minutes [start, end) of the day (end may pass 1440)."""


def _preference(key: str, modulus: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % modulus


@lru_cache(maxsize=1024)
def _options(every_hours: int, window: tuple[int, int] | None, weekday: int | None) -> tuple[
        tuple[Cron, frozenset[int]], ...]:
    """Every start a job of this shape may take, with its slots, in base order; a job tries them from its hashed
    pivot on. Shared by every job of the same shape, so a large estate builds each schedule once."""
    if every_hours < 24:
        return tuple((c, _slots(c)) for c in (Cron(m, every_hours) for m in range(0, every_hours * 60, SLOT_MINUTES)))
    start, end = window or (0, DAY_MINUTES)
    minutes = list(range(start, end, SLOT_MINUTES)) or [start]
    return tuple((c, _slots(c)) for c in (Cron(m % DAY_MINUTES, 24, weekday) for m in minutes))


def _candidates(job: JobRequest) -> list[tuple[Cron, frozenset[int]]]:
    """The job's starts in the order it tries them: from its hashed preference on, wrapping around."""
    weekday = _preference(job.key + "/weekday", 7) if job.every_hours >= 24 and job.weekly else None
    options = _options(job.every_hours, None if job.every_hours < 24 else job.window, weekday)
    pivot = _preference(job.key, len(options))
    return [*options[pivot:], *options[:pivot]]


@lru_cache(maxsize=4096)
def _slots(cron: Cron) -> frozenset[int]:
    """The 5-minute slots of the week a schedule starts in (shared by every job trying that candidate)."""
    return frozenset(s // SLOT_MINUTES for s in cron.starts())


def assign(jobs: list[JobRequest]) -> dict[str, Cron]:
    """Give every job a start time.

    Jobs are placed most-frequent first (they are the hardest to fit), then by key, so the result
    does not depend on inventory order. Each job takes its hashed preferred slot if free in its lane,
    else the next free candidate; only when every candidate collides does it take the least-crowded.
    """
    taken: dict[str, set[int]] = {}
    result: dict[str, Cron] = {}
    for job in sorted(jobs, key=lambda j: (j.every_hours, j.weekly, j.key)):
        busy = taken.setdefault(job.lane, set())
        best: tuple[int, Cron, frozenset[int]] | None = None
        for cron, slots in _candidates(job):
            if slots.isdisjoint(busy):
                best = (0, cron, slots)
                break
            clashes = len(slots & busy)
            if best is None or clashes < best[0]:
                best = (clashes, cron, slots)
        assert best is not None
        result[job.key] = best[1]
        busy |= best[2]
    return result


def after_backups(backups: Cron, offset_minutes: int) -> int:
    """Minute of day `offset_minutes` after the middle of a copy's first backup interval: the slot repository
    maintenance takes (offset 0), and verification jobs an offset later, clear of backups."""
    return (backups.minute_of_day + backups.every_hours * 30 + offset_minutes) % DAY_MINUTES


def every_days(minute_of_day: int, days: int, seed: str) -> Cron:
    """A job at `minute_of_day` on a cadence of `days`: monthly on a hashed day 2..27 from 28 days (clear of
    month-start jobs; a job run the next day still falls on or before the 28th), weekly on a hashed weekday from 7,
    else daily. `seed` (dataset/destination/role) keeps the day stable across runs."""
    if days < 1:
        raise ValueError(f"{seed}: a cadence of {days} days schedules nothing")
    if days >= 28:
        return Cron(minute_of_day, 24, day_of_month=2 + _preference(seed, 26))
    if days >= 7:
        return Cron(minute_of_day, 24, weekday=_preference(seed, 7))
    return Cron(minute_of_day, 24)
