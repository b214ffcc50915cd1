"""App-consistent dumps (pg_dump, SQLite .backup) written to the NAS dataset that protects them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import Dataset, Truenas
from manifests import exports, verification
from plan.model import DatasetPlan
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class ExportArgs:
    dataset: Dataset
    plan: DatasetPlan
    nas: Truenas
    target: KubernetesTarget
    healthchecks: PingBase | None = None
    """Where its jobs report; None: no pings."""


class ExportJob(pulumi.ComponentResource):
    """One dump CronJob, and a restore drill of the newest dump when the tier asks for drills; the NAS dataset
    it writes into carries the offsite copies."""

    def __init__(self, name: str, args: ExportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:exports:ExportJob", name, None, opts)
        pings = args.healthchecks is not None
        job = exports.export_cronjob(args.dataset, args.plan, nas=args.nas, pings=pings)
        args.target.declare(f"{name}-dump", job, parent=self)
        drills = verification.restore_drills(args.dataset, args.plan, pings, nas=args.nas) \
            if args.plan.drill_every_days else []
        for i, obj in enumerate(drills):
            args.target.declare(f"{name}-drill-{i}", obj, parent=self)
        declare_ping_secrets(name, args.dataset, [job, *drills], args.healthchecks, args.target, self)
        self.register_outputs({})
