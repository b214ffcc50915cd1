"""A PVE backup job runs at least as often as its tier's RPO, and only while enabled.

The schedule is a calendar event; its longest gap between two runs is the data a guest can lose. A disabled job
protects nothing.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.calendar import longest_gap_hours
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import fmt, is_unknown, number, truthy
from .support.text import quoted

META = Meta(
    name="pve-backup-job-enforce-rpo",
    description="PVE backup jobs must be enabled and run at least as often as their tier's RPO.",
    severity=Severity.HIGH,
    remediation="Schedule the job more often (e.g. '21:00' daily, '0/6:00' every six hours) or move the guests to "
                "the tier whose RPO the schedule meets; enable it.",
    config_keys=("tiers",),
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the job is disabled, its schedule unreadable, or its longest gap above the tier's RPO."""
    props = resource.props
    tier = number(props.get("tier"))
    if tier is None or not tier.is_integer() or str(int(tier)) not in settings["tiers"]:
        raise NotApplicable("the job declares no known tier (pve-backup-job-missing-tier reports it)")
    job = quoted(props.get("job_id") or resource.name)
    messages = []
    if truthy(props.get("enabled")) is False:
        messages.append(f"PVE backup job {job} is disabled, so its tier {int(tier)} guests get no new backups; "
                        "set enabled: true.")
    schedule = props.get("schedule")
    if is_unknown(schedule):
        return messages
    gap = longest_gap_hours(schedule) if isinstance(schedule, str) else None
    limit = float(settings["tiers"][str(int(tier))]["maxRpoHours"])
    if gap is None:
        messages.append(f"PVE backup job {job} has schedule {quoted(schedule)}, which is not a calendar event; "
                        "write e.g. '21:00' or 'mon..fri 02:30'.")
    elif gap > limit:
        messages.append(f"PVE backup job {job} runs {quoted(schedule)}, up to {fmt(gap)} h apart, above tier "
                        f"{int(tier)}'s RPO of {fmt(limit)} h; schedule it at least every {fmt(limit)} h.")
    return messages


POLICY = resource_policy(META, (kinds.PVE_BACKUP_JOB,), check)
