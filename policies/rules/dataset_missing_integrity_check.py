"""Repositories rot silently: tiers that demand it get a scheduled integrity check (restic/kopia/pgBackRest verify).

A check is any object labelled `backup.homelab/verification=check` with a schedule (a CronJob running `restic check
--read-data-subset`, a TrueNAS task...); an export inherits its NAS dataset's checks. Advisory by default: the
program schedules no integrity checks yet. Set this policy to mandatory once it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import datasets_with_requirements
from .support.verification import cadence_violation

META = Meta(
    name="dataset-missing-integrity-check",
    description="Datasets whose tier requires integrity checks must have one scheduled often enough.",
    severity=Severity.MEDIUM,
    remediation="Schedule a repository check at the tier's cadence (restic check --read-data-subset, kopia "
                "snapshot verify, pgbackrest verify) and label it backup.homelab/verification=check.",
    enforcement=EnforcementLevel.ADVISORY,
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets without a timely scheduled integrity check."""
    _, pairs = datasets_with_requirements(resources, settings)
    found = (cadence_violation(d, d.checks, n.check_every_days, "integrity check",
                               "schedule a repository check") for d, n in pairs)
    return [v for v in found if v is not None]


POLICY = stack_policy(META, check)
