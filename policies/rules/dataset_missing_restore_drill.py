"""Backups that were never restored are hopes: tiers that demand it get a scheduled scratch-restore drill.

A drill is a scheduled VolSync ReplicationDestination (restore into a throwaway claim), or any object labelled
`backup.homelab/verification=drill` with a schedule; an export inherits its NAS dataset's drills.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import datasets_with_requirements
from .support.verification import cadence_violation

META = Meta(
    name="dataset-missing-restore-drill",
    description="Datasets whose tier requires restore drills must have one scheduled often enough.",
    severity=Severity.MEDIUM,
    remediation="Schedule a scratch restore for the dataset at the tier's cadence (the program renders VolSync "
                "drills for PVCs); label drills of other kinds backup.homelab/verification=drill.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets without a timely scheduled restore drill."""
    _, pairs = datasets_with_requirements(resources, settings)
    found = (cadence_violation(d, d.drills, n.drill_every_days, "restore drill",
                               "schedule a scratch restore of the latest backup") for d, n in pairs)
    return [v for v in found if v is not None]


POLICY = stack_policy(META, check)
