"""A PVE backup job's `prune-backups` keeps at least the tier's local retention.

PVE prunes a storage after each backup with the job's `prune-backups` (on PBS storages too); without it the
storage's own setting applies, which the program does not declare and the pack cannot see.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import is_unknown, number
from .support.text import quoted

META = Meta(
    name="pve-backup-job-enforce-retention",
    description="PVE backup jobs must keep at least their tier's local retention in prune-backups.",
    severity=Severity.HIGH,
    remediation="Set prune-backups on the job from the tier's local retention (the program does: "
                "keep-daily=14,keep-weekly=4,keep-monthly=3 for tier 2), or raise the counts that fall short.",
    config_keys=("tiers",),
)


def parse(value: str) -> dict[str, int]:
    """`keep-daily=14,keep-weekly=4` -> {"daily": 14, "weekly": 4}; `keep-all=1` -> {"all": 1}."""
    kept: dict[str, int] = {}
    for part in value.split(","):
        key, _, count = part.strip().partition("=")
        if key.startswith("keep-") and count.isdigit():
            kept[key[5:]] = int(count)
    return kept


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message per retention level kept shorter than the tier demands."""
    props = resource.props
    tier = number(props.get("tier"))
    if tier is None or not tier.is_integer() or str(int(tier)) not in settings["tiers"]:
        raise NotApplicable("the job declares no known tier (pve-backup-job-missing-tier reports it)")
    prune = props.get("prune_backups")
    if is_unknown(prune):
        raise NotApplicable("prune_backups is not known yet")
    job = quoted(props.get("job_id") or resource.name)
    minimum = settings["tiers"][str(int(tier))]["minRetention"]["local"]
    wanted = ",".join(f"keep-{k}={v}" for k, v in minimum.items() if v)
    if not isinstance(prune, str) or not prune:
        return [f"PVE backup job {job} sets no prune_backups, so the storage's own setting decides what is kept; "
                f"tier {int(tier)} keeps at least {wanted}: set it on the job."]
    kept = parse(prune)
    if kept.get("all"):
        return []
    short = [f"keep-{level}={kept.get(level, 0)} < {count}" for level, count in minimum.items()
             if count and kept.get(level, 0) < count]
    if short:
        return [f"PVE backup job {job} prunes to {quoted(prune)}, below tier {int(tier)}'s local retention "
                f"({'; '.join(short)}); keep at least {wanted}."]
    return []


POLICY = resource_policy(META, (kinds.PVE_BACKUP_JOB,), check)
