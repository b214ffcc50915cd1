"""Every ReplicationSource runs on a 5-field cron schedule.

Without `trigger.schedule` VolSync either syncs back-to-back forever (no trigger) or only when someone edits
`trigger.manual`; neither meets an RPO, and VolSync's missed-interval metrics need a schedule to exist.
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
    name="volsync-missing-schedule",
    description="VolSync ReplicationSources must run on a 5-field cron schedule.",
    severity=Severity.MEDIUM,
    remediation="Set spec.trigger.schedule to a 5-field cron such as '15 */6 * * *' (VolSync has no seconds field).",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the source has no schedule or one VolSync cannot read."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    schedule = require(get(resource.props, "spec", "trigger", "schedule"), "spec", "trigger", "schedule")
    if schedule is None:
        manual = get(resource.props, "spec", "trigger", "manual")
        how = "only when spec.trigger.manual changes" if manual is not None else "back-to-back, without pause"
        return [f"{target} has no spec.trigger.schedule, so it syncs {how}; set a 5-field cron meeting the tier's "
                "RPO, e.g. '15 */6 * * *'."]
    if not isinstance(schedule, str):
        return [f"{target} has schedule {quoted(schedule)}, which is not a cron string; use e.g. '15 */6 * * *'."]
    try:
        parse_cron(schedule)
    except CronError as exc:
        hint = ""
        if field_count(schedule) == 6:
            hint = f" (drop the leading seconds field: {' '.join(schedule.split()[1:])!r})"
        return [f"{target} schedule {schedule!r} is not a 5-field cron: {exc}{hint}."]
    return []


POLICY = resource_policy(META, (kinds.REPLICATION_SOURCE,), check)
