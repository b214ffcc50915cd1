"""Guest groups as datasets of the runbook contract (version 5): the `proxmox` details of a group and its restore
procedure as contract steps, from the plan's protection unit and the inventory's destinations. Pure data."""

from __future__ import annotations

from typing import Any

from inventory.models import Inventory
from inventory.proxmox import Guests, PbsDestination
from plan.proxmox import ProxmoxPlan
from plan.units import ProtectionUnit
from runbook.proxmox import RESTORE_TARGET
from runbook.steps import step


def guest_units(plan: ProxmoxPlan | None) -> tuple[ProtectionUnit, ...]:
    """The guest groups' units (none without a proxmox section)."""
    return plan.units if plan is not None else ()


def guest_entry(inv: Inventory, plan: ProxmoxPlan, unit: ProtectionUnit) -> dict[str, Any]:
    """`datasets.<group>.proxmox`: the selector, the job per copy and the scheduled drill."""
    group: Guests = unit.source  # type: ignore[assignment]
    entry: dict[str, Any] = {"selector": group.selector, "node": group.node,
                             "jobs": {j.destination: {"id": j.id, "calendar_event": j.schedule, "storage": j.storage}
                                      for j in plan.jobs if j.group == unit.dataset},
                             "syncs": {s.destination: s.id for s in plan.syncs
                                       if any(c.destination == s.destination for c in unit.copies)}}
    drill = next((d for d in plan.drills if d.group == unit.dataset), None)
    if drill is not None:
        entry["drill"] = {"cronjob": drill.name, "node": drill.node, "scratch_vmid": drill.scratch_vmid,
                          "pool": drill.pool, "storage": drill.scratch_storage, "reads_storage": drill.backup_storage}
    return entry


def guest_steps(inv: Inventory, plan: ProxmoxPlan, unit: ProtectionUnit) -> list[dict[str, str]]:
    """How a guest of this group comes back: from the nearest copy vzdump writes, else from the synced offsite."""
    pve = inv.proxmox
    assert pve is not None
    jobs = [j for j in plan.jobs if j.group == unit.dataset]
    storage = jobs[0].storage if jobs else "<the PVE storage holding the backups>"
    steps = [
        step("Find the backup",
             f"Every copy vzdump writes is on a PVE storage; the first one ({storage}) is the nearest. Pick the "
             "newest backup of the guest, or the last one from before the problem.",
             f"pvesm list {storage} --content backup --vmid <vmid>"),
        step("Restore it beside the original first",
             "A restore to a new VM id leaves the original untouched for comparison; --unique gives the copy new MAC "
             "addresses. Containers: the same with pct restore.",
             f"qmrestore <volid> <new vmid> --storage {RESTORE_TARGET} --unique 1   "
             f"# containers: pct restore <new vmid> <volid> --storage {RESTORE_TARGET} --unique 1"),
        step("Check it off the network",
             "The copy has the original's IP addresses and services: unplug its interfaces before starting it, "
             "then look at the service from the console.",
             "qm set <new vmid> --net0 <its net0 value>,link_down=1 && qm start <new vmid>"),
        step("Put it in place",
             "Stop the original, then restore over its id (--force replaces the guest and its disks), or keep the "
             "copy and give it the original's network settings; remove the copy you no longer need.",
             f"qm stop <vmid> && qmrestore <volid> <vmid> --force 1 --storage {RESTORE_TARGET}"),
    ]
    for copy in unit.copies:
        dest = pve.destination(copy.destination)
        if isinstance(dest, PbsDestination) and dest.sync_from is not None:
            source = pve.destination(dest.sync_from)
            steps.append(step(
                f"Site loss: bring back {copy.destination}",
                f"The offsite datastore {dest.datastore!r} is a PBS sync copy of {source.name!r}. Sync it back into "
                "a datastore a PVE storage points at (on the rebuilt PBS), then restore from that storage as above.",
                f"proxmox-backup-manager pull {dest.remote or '<remote of ' + dest.datastore + '>'} {dest.datastore} "
                f"{getattr(source, 'datastore', '<local datastore>')}"))
    return steps
