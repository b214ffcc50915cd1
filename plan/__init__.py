"""The plan: inventory + tiers compiled into concrete settings. Pure Python; imports nothing from Pulumi."""

from plan.build import build_plan
from plan.model import BucketPlan, CopyPlan, DatasetPlan, Plan

__all__ = ["BucketPlan", "CopyPlan", "DatasetPlan", "Plan", "build_plan"]
