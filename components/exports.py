"""App-consistent dumps (pg_dump, SQLite .backup) written to the NAS dataset that protects them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import Truenas
from manifests import drills, exports
from plan.units import ProtectionUnit
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class ExportArgs:
    unit: ProtectionUnit
    """The export's protection unit: its dump job's name, slot and slug, and its drill."""
    nas: Truenas
    """The NAS the dumps are written to (its NFS host)."""
    target: KubernetesTarget
    """Where the CronJobs go (rendered or applied)."""
    healthchecks: PingBase | None = None
    """Where its jobs report; None: no pings."""


class ExportJob(pulumi.ComponentResource):
    """One dump CronJob, and a restore drill of the newest dump when the tier asks for drills; the NAS dataset
    it writes into carries the offsite copies."""

    def __init__(self, name: str, args: ExportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:exports:ExportJob", name, None, opts)
        pings = args.healthchecks is not None
        job = exports.export_cronjob(args.unit, nas=args.nas, pings=pings)
        args.target.declare(f"{name}-dump", job, parent=self)
        drill = drills.drill(args.unit, pings, nas=args.nas)
        drill_objects = list(drill.objects) if drill else []
        for i, obj in enumerate(drill_objects):
            args.target.declare(f"{name}-drill-{i}", obj, parent=self)
        declare_ping_secrets(name, args.unit, [job, *drill_objects], args.healthchecks, args.target, self)
        self.register_outputs({})
