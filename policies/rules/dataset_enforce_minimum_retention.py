"""Each copy keeps at least the tier's history: enough points per level to go back as far as the tier promises.

Minimums are counts per level (hourly, daily, weekly, monthly, yearly), separately for local and offsite copies.
A requirement of N points at a level is met by any kept level at least that fine reaching N level-lengths back
(30 hourly points also cover 1 daily point). Counted per tool: restic/kopia `retain` (a point is at least one
schedule gap apart), pgBackRest full backups (continuous WAL back to the oldest full), TrueNAS snapshot lifetimes.
Cloud sync mirrors and export dumps keep no history of their own and are not judged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .config import LEVEL_DAYS, LEVELS
from .support.estate import Keep
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.props import fmt
from .support.stack import datasets_with_requirements, own_copies

META = Meta(
    name="dataset-enforce-minimum-retention",
    description="Every copy must keep at least the retention its tier requires at each level.",
    severity=Severity.HIGH,
    remediation="Raise the copy's retention to the tier minimum: retain.<level> for VolSync, retentionPolicy.full "
                "for pgBackRest, lifetime_value for TrueNAS snapshot tasks.",
    config_keys=("tiers",),
)
_FIX = {
    "restic": "raise spec.restic.retain.{level} to {count}",
    "kopia": "raise spec.kopia.retain.{level} to {count}",
    "kopiur": "raise the SnapshotPolicy's spec.retention for {level} points to {count}",
    "pgbackrest": "raise retentionPolicy.full so the oldest full backup is at least {days} days old",
    "snapshots": "keep the {level} snapshot task's snapshots for at least {days} days",
}


def _short(keeps: list[Keep], level: str, count: int) -> str | None:
    """None when `keeps` cover `count` points at `level`; else what they reach at that level (for the message)."""
    needed = count * LEVEL_DAYS[level]
    rank = LEVELS.index(level)
    usable = [k.window_days for k in keeps if LEVELS.index(k.level) <= rank]
    if any(days >= needed - 1e-9 for days in usable):
        return None
    return f"{fmt(round(max(usable), 2))} days" if usable else f"no {level} or finer points"


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations naming the copy, the level it falls short at, and the fix."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        subjects: list[tuple[str, str, str, list[Keep]]] = []
        for copy in own_copies(dataset):
            if copy.keeps is not None:
                side = "local" if copy.offsite is False else "offsite"
                subjects.append((f"copy {copy.destination} ({copy.tool}) keeps", side, copy.tool, copy.keeps))
        if dataset.local_keeps:
            subjects.append(("its local snapshots keep", "local", "snapshots", [k for k, _ in dataset.local_keeps]))
        for title, side, tool, keeps in subjects:
            for level, count in sorted(needs.min_retention.get(side, {}).items(), key=lambda i: LEVELS.index(i[0])):
                reach = _short(keeps, level, count)
                if reach is None:
                    continue
                days = fmt(count * LEVEL_DAYS[level])
                fix = _FIX.get(tool, "raise its retention").format(level=level, count=count, days=days)
                violations.append(Violation(
                    f"{dataset.label}: {title} {level} history for {reach}; tier {dataset.tier} {side} copies "
                    f"keep at least {count} {level} points ({days} days): {fix}.", dataset.urn))
    return violations


POLICY = stack_policy(META, check)
