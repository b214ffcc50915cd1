"""Tier defaults and the bounds an override may not cross: the one home of the numbers in design §4."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Count = Annotated[int, Field(ge=0, le=1000)]


class Retention(BaseModel):
    """Grandfather-father-son retention: how many points of each level to keep (0 = level unused)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    hourly: Count = 0
    daily: Count = 0
    weekly: Count = 0
    monthly: Count = 0
    yearly: Count = 0

    def levels(self) -> dict[str, int]:
        """The levels in use, finest first."""
        return {k: v for k, v in self.model_dump().items() if v}

    def window_days(self) -> float:
        """How far back the longest level reaches, in days."""
        return max((n * LEVEL_DAYS[k] for k, n in self.levels().items()), default=0.0)

    def shortest_window_days(self) -> float:
        """How far back the shortest level reaches: a point older than this may be released."""
        return min((n * LEVEL_DAYS[k] for k, n in self.levels().items()), default=0.0)


LEVEL_DAYS = {"hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 30.0, "yearly": 365.0}


class TierSettings(BaseModel):
    """What a tier demands of every dataset in it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    rpo_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    """Longest tolerated data loss for the most frequent copy."""
    offsite_rpo_hours: Annotated[int, Field(ge=1, le=24 * 31)]
    """Cadence of offsite copies when a local copy already meets rpo_hours."""
    local_retention: Retention
    offsite_retention: Retention
    lock_days: Annotated[int, Field(ge=0, le=365)] = 0
    """Object lock (governance) on offsite copies; 0 = none. Capped below the retention window."""
    verify_every_days: Annotated[int, Field(ge=0, le=365)] = 0
    """Repository integrity check cadence; 0 = none."""
    drill_every_days: Annotated[int, Field(ge=0, le=365)] = 0
    """Scheduled scratch-restore drill cadence; 0 = none."""
    alerts: tuple[str, ...] = ()
    """Alert kinds: out-of-sync, missed-run, never-ran."""


DEFAULT_TIERS: dict[int, TierSettings] = {
    1: TierSettings(
        rpo_hours=12,
        offsite_rpo_hours=24,
        local_retention=Retention(hourly=48, daily=30, monthly=6),
        offsite_retention=Retention(daily=30, monthly=12),
        lock_days=14,
        verify_every_days=7,
        drill_every_days=30,
        alerts=("out-of-sync", "missed-run", "never-ran"),
    ),
    2: TierSettings(
        rpo_hours=24,
        offsite_rpo_hours=24,
        local_retention=Retention(daily=14, weekly=4, monthly=3),
        offsite_retention=Retention(daily=14),
        verify_every_days=30,
        alerts=("out-of-sync",),
    ),
    3: TierSettings(
        rpo_hours=24 * 7,
        offsite_rpo_hours=24 * 7,
        local_retention=Retention(daily=7),
        offsite_retention=Retention(),
    ),
}


@dataclass(frozen=True)
class TierBounds:
    """Limits an override must respect (the policy pack enforces the same numbers from its config)."""

    max_rpo_hours: int
    min_local: Retention
    min_offsite: Retention
    require_lock: bool
    min_verify_days: int  # 0 = not required
    required_alerts: tuple[str, ...]

    def check(self, s: TierSettings) -> Iterator[tuple[tuple[str, ...], str]]:
        if s.rpo_hours > self.max_rpo_hours:
            ceiling = self.max_rpo_hours
            yield ("rpo_hours",), f"{s.rpo_hours} h exceeds this tier's ceiling of {ceiling} h; use {ceiling} or less"
        for section, floor, actual in (
            ("local_retention", self.min_local, s.local_retention),
            ("offsite_retention", self.min_offsite, s.offsite_retention),
        ):
            for level, minimum in floor.levels().items():
                have = getattr(actual, level)
                if have < minimum:
                    yield (section, level), (f"keeps {have}, below this tier's minimum of {minimum}; "
                                             f"use {minimum} or more")
        if self.require_lock and s.lock_days < 1:
            yield ("lock_days",), "offsite copies of this tier must be locked; set lock_days to at least 1 (default 14)"
        if self.min_verify_days and not 0 < s.verify_every_days <= self.min_verify_days:
            yield ("verify_every_days",), f"must be between 1 and {self.min_verify_days}"
        missing = [a for a in self.required_alerts if a not in s.alerts]
        if missing:
            yield ("alerts",), f"missing required alerts {missing}; add them"


TIER_BOUNDS: dict[int, TierBounds] = {
    1: TierBounds(12, Retention(hourly=24, daily=14, monthly=3), Retention(daily=14, monthly=6), True, 7,
                  ("out-of-sync", "missed-run", "never-ran")),
    2: TierBounds(24, Retention(daily=7), Retention(), False, 31, ("out-of-sync",)),
    3: TierBounds(24 * 7, Retention(daily=1), Retention(), False, 0, ()),
}
