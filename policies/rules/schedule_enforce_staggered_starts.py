"""Jobs sharing a destination start in different 5-minute slots, so they do not fight over bandwidth and locks.

Lanes follow the plan's stagger: the destination for backups and offsite syncs, one lane for NAS snapshot tasks,
one per NAS dataset receiving export dumps. Starts are compared over a week (monthly jobs count as daily, as the
plan places them); timezones are taken as equal. Advisory by default: a collision costs time, not data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .support.cron import DAY_MINUTES
from .support.estate import Estate, Job
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy

META = Meta(
    name="schedule-enforce-staggered-starts",
    description="Jobs on the same destination must not start in the same time slot.",
    severity=Severity.LOW,
    remediation="Move one of the jobs to a free slot (the plan's stagger does this unless a lane is full).",
    enforcement=EnforcementLevel.ADVISORY,
    config_keys=("slotMinutes",),
)
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def _when(minute: int) -> str:
    day, rest = divmod(minute, DAY_MINUTES)
    return f"{_DAYS[day % 7]} {rest // 60:02d}:{rest % 60:02d}"


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """One violation per pair of jobs that share a lane and a slot (first shared start named)."""
    estate = Estate.build(resources, settings)
    slot = int(settings["slotMinutes"])
    jobs = [j for j in estate.jobs if j.timed.schedule is not None]
    if not jobs:
        raise NotApplicable("no scheduled job in the stack")
    occupied: dict[tuple[str, int], Job] = {}
    clashes: dict[tuple[str, str], tuple[Job, Job, int]] = {}
    for job in sorted(jobs, key=lambda j: (j.lane, j.timed.urn)):
        assert job.timed.schedule is not None
        for start in job.timed.schedule.week_starts():
            key = (job.lane, start // slot)
            first = occupied.setdefault(key, job)
            if first is not job and first.timed.urn != job.timed.urn:
                clashes.setdefault((first.timed.urn, job.timed.urn), (first, job, start))
    return [Violation(
        f"{b.timed.what} ({b.dataset}, {b.timed.text!r}) starts in the same {slot}-minute slot as {a.timed.what} "
        f"({a.dataset}, {a.timed.text!r}) on {a.lane}, first at {_when(start)}; move one to a free slot.", b.timed.urn)
        for a, b, start in sorted(clashes.values(), key=lambda c: (c[0].lane, c[2]))]


POLICY = stack_policy(META, check)
