"""A protected dataset: the parent of everything that protects it, carrying its declared tier.

Policies group resources by this component (through the parent link) and read the tier from its
inputs; they verify the children themselves (schedules, buckets, locks), never the plan.
"""

from __future__ import annotations

import pulumi

from plan.units import ProtectionUnit

TYPE = "homelab-backups:inventory:ProtectedDataset"


class ProtectedDataset(pulumi.ComponentResource):
    """One inventory dataset; its inputs are the declared facts policies check the children against."""

    def __init__(self, name: str, unit: ProtectionUnit, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "dataset": unit.dataset,
            "tier": unit.tier,
            "source": unit.kind,
            "size_gb": unit.size_gb,
            "offsite_override_reason": unit.offsite_override_reason,
            # Per destination, what a restore from it gets (plan/restore.py): the restore-time policy reads it.
            "restore_mbps": dict(sorted({c.destination: c.restore_mbps for c in unit.copies}.items())),
        }
        super().__init__(TYPE, name, props, opts)
        # Stack policies see a component's registered outputs, not its inputs: register the declared facts.
        self.register_outputs(props)
