"""A protected dataset: the parent of everything that protects it, carrying its declared tier.

Policies group resources by this component (through the parent link) and read the tier from its
inputs; they verify the children themselves (schedules, buckets, locks), never the plan.
"""

from __future__ import annotations

import pulumi

from inventory.models import Dataset

TYPE = "homelab-backups:inventory:ProtectedDataset"


class ProtectedDataset(pulumi.ComponentResource):
    """One inventory dataset; its inputs are the declared facts policies check the children against."""

    def __init__(self, dataset: Dataset, restore_mbps: dict[str, float] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "dataset": dataset.name,
            "tier": dataset.tier,
            "source": dataset.source.kind,
            "size_gb": dataset.size_gb,
            "offsite_override_reason": dataset.offsite_override_reason,
            # Per destination, what a restore from it gets (plan/restore.py): the restore-time policy reads it.
            "restore_mbps": dict(sorted((restore_mbps or {}).items())),
        }
        super().__init__(TYPE, dataset.name, props, opts)
        # Stack policies see a component's registered outputs, not its inputs: register the declared facts.
        self.register_outputs(props)
