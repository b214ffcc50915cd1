"""CloudNativePG ScheduledBackups use 6-field cron with a leading seconds field (apis.md §2.1).

A 5-field expression copied from VolSync or Kubernetes is read shifted by one field by robfig cron (or rejected),
so the backup runs at the wrong times or never. Descriptors (@daily, @every 6h) are accepted as robfig reads them.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.cron import CronError, field_count, parse_cron
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, require
from .support.text import k8s_title, protects, quoted

META = Meta(
    name="cnpg-backup-enforce-six-field-cron",
    description="CloudNativePG ScheduledBackups must use a 6-field cron schedule (seconds first).",
    severity=Severity.HIGH,
    remediation="Prefix a 5-field cron with the seconds field: '0 15 3 * * *' runs daily at 03:15.",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the schedule is missing, 5-field, or unreadable."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    schedule = require(get(resource.props, "spec", "schedule"), "spec", "schedule")
    if not isinstance(schedule, str) or not schedule.strip():
        return [f"{target} has schedule {quoted(schedule)}; set a 6-field cron such as '0 15 3 * * *'."]
    fields = field_count(schedule)
    if fields == 5:
        return [f"{target} schedule {schedule!r} has 5 fields; CloudNativePG's cron starts with a seconds field "
                f"(6 fields): write '0 {schedule.strip()}'."]
    try:
        parse_cron(schedule, seconds=True)
    except CronError as exc:
        return [f"{target} schedule {schedule!r} is not a 6-field cron: {exc}."]
    return []


POLICY = resource_policy(META, (kinds.SCHEDULED_BACKUP,), check)
