"""Guests whose tier demands restore drills get a scheduled guest restore drill, as every other tier-1 dataset does.

A guest group is the component owning PVE backup jobs (the tier is on each job); its drill is a CronJob labelled
`backup.homelab/verification=drill` and `backup.homelab/dataset=<group>` (the program renders one per group when
`proxmox.drill` gives it a token and scratch space).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .config import tier_requirements
from .support import kinds
from .support.estate import timed_cron
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import LABEL_DATASET, LABEL_VERIFICATION, fmt, get, labels_of, number
from .support.text import quoted

META = Meta(
    name="pve-guests-missing-restore-drill",
    description="Guest groups whose tier requires restore drills must have a guest restore drill scheduled often "
                "enough.",
    severity=Severity.MEDIUM,
    remediation="Add proxmox.drill (a token limited to a scratch pool and storage, and a scratch VM id range) so the "
                "program schedules the guest restore drill on the tier's cadence; or label your own drill CronJob "
                "backup.homelab/verification=drill and backup.homelab/dataset=<group>.",
    config_keys=("tiers",),
)


def _groups(resources: Sequence[StackResource]) -> dict[str, tuple[int, str]]:
    """Group name -> (highest-demand tier, URN of its first job), from the PVE jobs' owning components."""
    by_urn = {r.urn: r for r in resources}
    groups: dict[str, tuple[int, str]] = {}
    for job in (r for r in resources if r.type == kinds.PVE_BACKUP_JOB):
        tier = number(job.props.get("tier"))
        if tier is None or not tier.is_integer():
            continue  # pve-backup-job-missing-tier reports it
        owner = by_urn.get(job.parent or "")
        name = owner.name if owner is not None and owner.type != "pulumi:pulumi:Stack" else str(job.props.get(
            "job_id") or job.name)
        known = groups.get(name)
        if known is None or int(tier) < known[0]:
            groups[name] = (int(tier), job.urn)
    return groups


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for guest groups without a timely scheduled restore drill."""
    groups = _groups(resources)
    if not groups:
        raise NotApplicable("the stack declares no tiered PVE backup job")
    drills: dict[str, list[tuple[float | None, str, str]]] = {}
    for r in resources:
        labels = labels_of(r.props) if r.type == kinds.CRONJOB else {}
        if labels.get(LABEL_VERIFICATION) == "drill" and isinstance(labels.get(LABEL_DATASET), str):
            timed = timed_cron(get(r.props, "spec", "schedule"), r.urn, f"CronJob {r.name}")
            if timed is not None:
                drills.setdefault(labels[LABEL_DATASET], []).append((timed.gap_hours, timed.text, r.urn))
    violations = []
    for name, (tier, urn) in sorted(groups.items()):
        requirements = tier_requirements(settings, tier)
        every = requirements.drill_every_days if requirements is not None else 0
        if every <= 0:
            continue
        found = [(gap / 24, text, at) for gap, text, at in drills.get(name, []) if gap is not None]
        if not found:
            violations.append(Violation(
                f"guest group {quoted(name)} (tier {tier}) has no scheduled restore drill; tier {tier} needs one at "
                f"least every {fmt(every)} days: add proxmox.drill so the program schedules it.", urn))
            continue
        days, text, at = min(found)
        if days > every + 1e-9:
            violations.append(Violation(
                f"guest group {quoted(name)}: its restore drill runs every {fmt(round(days, 2))} days ({text!r}); "
                f"tier {tier} needs one at least every {fmt(every)} days: schedule it more often.", at))
    return violations


POLICY = stack_policy(META, check)
