"""The plan: inventory + tiers compiled into concrete settings. Pure Python; imports nothing from Pulumi.

Read `plan/units.py` first: one `ProtectionUnit` per dataset × tool carries every name, time, choice and key the
later layers (manifest builders, components, the runbook contract) translate.
"""

from plan.build import build_plan
from plan.model import BucketPlan, CopyPlan, DatasetPlan, Plan
from plan.units import CopyObjects, ProtectionUnit, VerificationJob

__all__ = ["BucketPlan", "CopyObjects", "CopyPlan", "DatasetPlan", "Plan", "ProtectionUnit", "VerificationJob",
           "build_plan"]
