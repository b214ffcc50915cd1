"""The tier's RPO is met by what is scheduled: the most frequent recovery point of a dataset comes often enough.

Recovery points are backup, snapshot and dump schedules (5-field, 6-field and TrueNAS dialects, read with their own
rules). The longest gap of the most frequent one must not exceed the tier's `maxRpoHours`; an unreadable schedule
guarantees nothing and is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.cron import describe
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.props import fmt
from .support.stack import datasets_with_requirements

META = Meta(
    name="dataset-enforce-rpo",
    description="Each dataset's most frequent backup or snapshot must run at least as often as its tier's RPO.",
    severity=Severity.HIGH,
    remediation="Schedule the dataset's most frequent copy (or its snapshots) at least every maxRpoHours: e.g. "
                "'15 */6 * * *' for 6 h; the plan derives this from the tier (and rpo_hours) when not hand-edited.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets whose best schedule is slower than the tier allows, or unreadable."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        limit = needs.max_rpo_hours
        for point in dataset.points:
            if point.error is not None:
                violations.append(Violation(
                    f"{dataset.label}: {point.what} has schedule {point.text!r}, which cannot be read ({point.error}); "
                    "it guarantees no recovery point: fix the expression.", point.urn))
        timed = [(p.gap_hours, p) for p in dataset.points if p.gap_hours is not None]
        if not timed:
            violations.append(Violation(
                f"{dataset.label} has no scheduled backup, snapshot or dump, so nothing bounds its data loss; tier "
                f"{dataset.tier} allows at most {fmt(limit)} h between recovery points: give it a destination (or "
                "fix the schedules of its copies).", dataset.urn))
            continue
        gap, best = min(timed, key=lambda pair: pair[0])
        if gap > limit + 1e-9:
            violations.append(Violation(
                f"{dataset.label}: its most frequent recovery point comes every {describe(gap)} ({best.what}, "
                f"{best.text!r}); tier {dataset.tier} allows at most {fmt(limit)} h: schedule it at least every "
                f"{fmt(limit)} h.", best.urn))
    return violations


POLICY = stack_policy(META, check)
