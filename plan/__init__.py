"""The plan: inventory + tiers compiled into concrete settings. Pure Python; imports nothing from Pulumi.

Read `plan/units.py` first: one `ProtectionUnit` per dataset × tool carries every name, time, choice and key the
later layers (manifest builders, components, the runbook contract) translate.

The names below are imported on first use, not with the package: a dynamic provider that needs one small module
(`plan.capabilities`) would otherwise import the whole plan, the inventory and pydantic (0.3-0.8 s) with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plan.build import build_plan
    from plan.model import BucketPlan, CopyPlan, DatasetPlan, Plan
    from plan.units import CopyObjects, ProtectionUnit, VerificationJob

_HOMES = {"build_plan": "plan.build", "BucketPlan": "plan.model", "CopyPlan": "plan.model",
          "DatasetPlan": "plan.model", "Plan": "plan.model", "CopyObjects": "plan.units",
          "ProtectionUnit": "plan.units", "VerificationJob": "plan.units"}

__all__ = ["BucketPlan", "CopyObjects", "CopyPlan", "DatasetPlan", "Plan", "ProtectionUnit", "VerificationJob",
           "build_plan"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'plan' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
