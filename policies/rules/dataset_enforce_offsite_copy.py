"""Irreplaceable data has a copy outside the building (3-2-1's "1"): a fire or a burglary takes the rest.

Counts distinct destinations whose buckets are labelled `backup.homelab/offsite=true` (or TrueNAS tasks declared
offsite), including the copies an export's NAS dataset carries for it. A bucket without the label is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import copies_phrase, datasets_with_requirements

META = Meta(
    name="dataset-enforce-offsite-copy",
    description="Datasets must keep the minimum number of offsite copies their tier requires.",
    severity=Severity.CRITICAL,
    remediation="Add an offsite destination (b2, r2, s3 or s3-compatible) to the dataset's destinations; for Tier 1 "
                "the inventory default already includes every offsite destination.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets with fewer offsite copies than their tier's minimum."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        if needs.min_offsite < 1:
            continue
        offsite = sorted({c.destination for c in dataset.copies if c.offsite})
        if len(offsite) < needs.min_offsite:
            violations.append(Violation(
                f"{dataset.label} has {len(offsite)} offsite copies (copies: {copies_phrase(dataset)}); tier "
                f"{dataset.tier} needs at least {needs.min_offsite}: add an offsite destination (b2, r2, s3 or "
                f"s3-compatible) to datasets[{dataset.name}].destinations.", dataset.urn))
    return violations


POLICY = stack_policy(META, check)
