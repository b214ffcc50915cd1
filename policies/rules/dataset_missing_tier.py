"""Every ProtectedDataset declares a tier the pack knows (1, 2 or 3): the tier selects every other requirement.

Resource inputs carry the declared tier even where the engine keeps no component outputs, so this is checked on the
component itself; `dataset-enforce-consistent-tier` checks that what protects it agrees.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import fmt, number, require
from .support.text import quoted

META = Meta(
    name="dataset-missing-tier",
    description="Every protected dataset must declare tier 1, 2 or 3.",
    severity=Severity.HIGH,
    remediation="Give the dataset `tier: 1` (irreplaceable), `2` (important) or `3` (re-downloadable) in the "
                "inventory.",
    config_keys=("tiers",),
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the tier is missing or not one the config defines."""
    name = resource.props.get("dataset") if isinstance(resource.props.get("dataset"), str) else resource.name
    tier = require(resource.props.get("tier"), "tier")
    known = sorted(settings["tiers"])
    value = number(tier)
    if value is None or not value.is_integer() or str(int(value)) not in known:
        found = "no tier" if tier is None else f"tier {fmt(value) if value is not None else quoted(tier)}"
        return [f"dataset {name} declares {found}; every dataset needs one of tiers {', '.join(known)}: set "
                f"datasets[{name}].tier."]
    return []


POLICY = resource_policy(META, (kinds.DATASET,), check)
