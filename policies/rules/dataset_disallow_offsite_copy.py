"""Re-downloadable data stays home: Tier 3 sends nothing offsite unless the inventory says why.

Offsite storage is the budget's largest item and Tier 3 (media, caches) is most of the bytes; an override with a
reason (`offsite_override_reason`) is the deliberate exception the design allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import datasets_with_requirements

META = Meta(
    name="dataset-disallow-offsite-copy",
    description="Datasets must not exceed their tier's offsite copies unless an offsite override gives a reason.",
    severity=Severity.MEDIUM,
    remediation="Remove the offsite destinations of Tier 3 datasets, or set offsite_override_reason on the dataset "
                "explaining why this data is worth paying for offsite.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets with more offsite copies than their tier allows and no override reason."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        if needs.max_offsite is None or dataset.override_reason:
            continue
        offsite = sorted({c.destination for c in dataset.copies if c.offsite})
        if len(offsite) > needs.max_offsite:
            violations.append(Violation(
                f"{dataset.label} sends {len(offsite)} offsite copies ({', '.join(offsite)}); tier {dataset.tier} "
                f"allows {needs.max_offsite} without a reason: remove {', '.join(offsite)} from "
                f"datasets[{dataset.name}].destinations, or set its offsite_override_reason.", dataset.urn))
    return violations


POLICY = stack_policy(META, check)
