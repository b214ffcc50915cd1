"""The NAS's own configuration: a TrueNAS cron job exporting the configuration database with its secret seed into a
Tier 1 NAS dataset, whose snapshot and cloud sync tasks (declared for that dataset) carry it offsite."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.healthchecks import PingBase
from manifests.nas_config import export_command
from plan.units import ProtectionUnit
from providers.truenas.cron_jobs import CronJob

RUN_AS = "root"
"""The configuration database and the secret seed under /data are root's alone."""


@dataclass(frozen=True)
class NasConfigArgs:
    unit: ProtectionUnit
    """The nas-config unit: the export's folder, slot and retention, and its Healthchecks slug."""
    connection: pulumi.Output
    """Secret Output of the NAS connection settings (components.truenas.nas_connection)."""
    healthchecks: PingBase | None = None
    """Where the export reports; None: no pings."""


class NasConfigBackup(pulumi.ComponentResource):
    """One NAS cron job writing `<dataset>-<UTC stamp>.tar` (config.save's bundle) on the plan's slot."""

    task_id: pulumi.Output[int]
    """The cron job's TrueNAS id."""

    def __init__(self, name: str, args: NasConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:nas_config:NasConfigBackup", name, None, opts)
        unit = args.unit
        export = unit.plan.export
        if export is None:
            raise ValueError(f"{unit.name}: a NAS configuration export needs its export plan")
        if args.healthchecks is not None:
            command: pulumi.Input[str] = pulumi.Output.secret(
                args.healthchecks.url(unit.objects[0].backup_slug).apply(lambda url: export_command(unit, url)))
        else:
            command = export_command(unit)
        schedule = export.schedule.shifted(unit.plan.nas_utc_offset_minutes).truenas()
        job = CronJob(
            f"{name}-export",
            connection=args.connection,
            command=command,
            user=RUN_AS,
            description=f"homelab-backups {unit.name}: configuration export",
            schedule=schedule,
            stdout=True,
            stderr=False,
            target_dataset=export.target_dataset,
            context=f"{unit.name} (configuration export)",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.task_id = job.task_id
        self.register_outputs({"task_id": job.task_id})
