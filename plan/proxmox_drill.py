"""Scheduled guest restore drills: per guest group whose tier asks for drills, which copy is restored, where, when.

The drilled copy is the group's first copy a PVE backup job writes (the NAS share or the local PBS datastore: the one
a restore reads first). The drill runs on the tier's drill cadence an hour after the middle of that copy's backup
interval, as every other drill (plan/units.py), restores one guest of the group per run (rotating through the
group's guests from run to run) to the group's own scratch VM id, and pings `<copy's backup slug>-drill`. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from inventory.models import Inventory
from inventory.proxmox import Proxmox
from plan.cron import Cron
from plan.names import CRONJOB_NAME_LIMIT, LABEL_VERIFICATION, labels, object_name
from plan.proxmox import ProxmoxPlan
from plan.stagger import after_backups, every_days
from plan.units import DRILL, DRILL_OFFSET_MINUTES, ProtectionUnit, VerificationJob


@dataclass(frozen=True)
class GuestDrillPlan:
    """One group's scheduled restore drill."""

    group: str
    tier: int
    name: str
    """The CronJob's name."""
    schedule: Cron
    """UTC, on the tier's drill cadence."""
    every_days: int
    """The tier's drill cadence (the CronJob runs monthly, weekly or daily from it; each run drills the next guest)."""
    slug: str
    destination: str
    """The drilled copy."""
    backup_storage: str
    """The PVE storage holding that copy's backups."""
    node: str
    """The node the restore runs on."""
    scratch_vmid: int
    pool: str
    scratch_storage: str
    timeout_minutes: int
    selection: tuple[tuple[str, str | int], ...]
    """The group's selector as the backup job takes it (`vmid`, `pool`, `all` + `exclude`, `node`)."""
    labels: dict[str, str]


def guest_drills(inv: Inventory, plan: ProxmoxPlan | None) -> ProxmoxPlan | None:
    """The plan with each drilled group's drill: as `drills`, and as its unit's `drill` (the runbook's view); every
    unit carries its tier's drill cadence."""
    pve: Proxmox | None = getattr(inv, "proxmox", None)
    if plan is None or pve is None:
        return plan
    # The cadence the tier demands is the unit's whether or not a drill can be scheduled (the pack compares them).
    cadence = {u.dataset: inv.tier(u.tier).drill_every_days for u in plan.units}
    plan = replace(plan, units=tuple(replace(u, plan=replace(u.plan, drill_every_days=cadence[u.dataset]))
                                     for u in plan.units))
    drill = pve.drill
    if drill is None:
        return plan
    node = drill.node or pve.nodes[0]
    drills: list[GuestDrillPlan] = []
    units: list[ProtectionUnit] = []
    for unit in plan.units:
        days = inv.tier(unit.tier).drill_every_days
        job = next((j for j in plan.jobs if j.group == unit.dataset), None)
        if days < 1 or job is None:
            units.append(unit)
            continue
        copy = next(c for c in unit.copies if c.destination == job.destination)
        key = f"{unit.dataset}/{copy.destination}/{DRILL}"
        schedule = every_days(after_backups(copy.schedule, DRILL_OFFSET_MINUTES), days, key)
        name = object_name(unit.dataset, copy.destination, DRILL, limit=CRONJOB_NAME_LIMIT)
        slug = f"{copy.healthcheck_slug}-{DRILL}"
        job_labels = {**labels(unit.dataset, unit.tier, copy.destination), LABEL_VERIFICATION: DRILL}
        drills.append(GuestDrillPlan(
            group=unit.dataset, tier=unit.tier, name=name, schedule=schedule, every_days=days, slug=slug,
            destination=copy.destination, backup_storage=job.storage, node=node,
            scratch_vmid=drill.vmid_first + len(drills), pool=drill.pool, scratch_storage=drill.storage,
            timeout_minutes=drill.timeout_minutes, selection=job.selection, labels=job_labels))
        index = unit.copies.index(copy) + 1
        units.append(replace(unit, drill=VerificationJob(role=DRILL, destination=copy.destination, repo_index=index,
                                                         name=name, schedule=schedule, slug=slug,
                                                         labels=job_labels)))
    return replace(plan, units=tuple(units), drills=tuple(drills))
