"""A dataset's tier is one fact: its component, the objects protecting it and the buckets holding it agree.

Alerts, rules and retention are chosen by the `backup.homelab/tier` label on each object; a Tier 1 dataset whose
ReplicationSource says tier 2, or whose copies land in a Tier 2 bucket (no lock, shorter lifecycle), is protected
below its tier without any rule noticing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.props import LABEL_TIER, require
from .support.stack import datasets_with_requirements

META = Meta(
    name="dataset-enforce-consistent-tier",
    description="A dataset's tier must be readable and the same on everything that protects it.",
    severity=Severity.HIGH,
    remediation="Declare the tier on the dataset only and let the program derive every label and bucket from it; "
                "fix hand-edited labels or bucket references that disagree.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets without a readable tier and for disagreeing labels and buckets."""
    estate, _ = datasets_with_requirements(resources, settings)
    violations = []
    for dataset in estate.datasets_sorted():
        require(dataset.declared_tier, "tier")
        if dataset.tier is None:
            found = sorted(dataset.label_tiers)
            what = f"its protecting objects disagree (tiers {found})" if found else "nothing protecting it carries one"
            violations.append(Violation(
                f"dataset {dataset.name} has no readable tier: its component records none and {what}; set "
                f"datasets[{dataset.name}].tier and let the program label every object with it.", dataset.urn))
            continue
        for tier, urn in sorted(dataset.label_tiers.items()):
            if tier != dataset.tier:
                violations.append(Violation(
                    f"{urn.rsplit('::', 1)[-1]} protects dataset {dataset.name} (tier {dataset.tier}) but is labelled "
                    f"{LABEL_TIER}={tier}; objects carry their dataset's tier (alerts and retention follow it): "
                    f"set the label to {dataset.tier}.", urn))
        for copy in dataset.copies:
            if copy.carried or copy.bucket is None or copy.bucket.tier in (None, dataset.tier):
                continue
            violations.append(Violation(
                f"dataset {dataset.name} (tier {dataset.tier}) writes its {copy.destination} copy into "
                f"{copy.bucket.label}, a tier {copy.bucket.tier} bucket (its lock and lifecycle follow tier "
                f"{copy.bucket.tier}); write into the destination's tier {dataset.tier} bucket.", copy.urn))
    return violations


POLICY = stack_policy(META, check)
