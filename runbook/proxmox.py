"""The Proxmox part of the runbook: per guest group, where each copy is, when it is made and kept, how it is
verified, and the exact restore procedure (`qmrestore` / `pct restore`, from a PVE storage or from PBS).

Exported as the stack output `proxmox` (beside the contract's `runbook`, whose schema covers datasets). Pure data
from the plan; no secret is here (the token secrets are credentials, never outputs).
"""

from __future__ import annotations

from typing import Any

from inventory.models import Inventory
from inventory.proxmox import Guests, PbsDestination, Proxmox
from plan.proxmox import ProxmoxPlan, prune_backups
from runbook.proxmox_offsite import offsite_restore, offsite_runbook

RESTORE_TARGET = "local-lvm"
"""The storage a restored guest's disks go to in the commands; replace it with yours."""


def proxmox_runbook(inv: Inventory, plan: ProxmoxPlan) -> dict[str, Any]:
    """Every guest group's copies, schedules, retention, verification and restore steps, plus the coverage check."""
    pve = inv.proxmox
    assert pve is not None
    groups = {g.name: g for g in pve.guests}
    return {
        "api_url": pve.api_url,
        "nodes_utc_offset_minutes": plan.node_utc_offset_minutes,
        "guests": {unit.dataset: _group(pve, plan, groups[unit.dataset], unit) for unit in plan.units},
        "pbs": {s.destination: {"datastore": s.datastore, "gc_schedule": s.gc_schedule,
                                "prune": {"job": s.prune_id, "schedule": s.prune_schedule,
                                          "keep": prune_backups(s.prune)} if s.prune else None,
                                "verify": {"job": s.verify_id, "schedule": s.verify_schedule,
                                           "outdated_after_days": s.outdated_after_days} if s.verify_id else None}
                for s in plan.datastores},
        "coverage": {"healthcheck": plan.coverage_slug,
                     "check": "GET /cluster/backup-info/not-backed-up must return []: every guest in a job",
                     "command": "pvesh get /cluster/backup-info/not-backed-up --output-format json"},
        "offsite": offsite_runbook(plan.offsite),
    }


def _group(pve: Proxmox, plan: ProxmoxPlan, group: Guests, unit: Any) -> dict[str, Any]:
    jobs = {j.destination: j for j in plan.jobs if j.group == group.name}
    syncs = {s.destination: s for s in plan.syncs}
    copies = []
    for copy in unit.copies:
        dest = pve.destination(copy.destination)
        entry: dict[str, Any] = {"destination": copy.destination, "kind": copy.kind, "offsite": copy.offsite,
                                 "where": copy.endpoint, "schedule_utc": copy.schedule.human(),
                                 "retention": prune_backups(copy.retention), "restore_hours": copy.restore_hours}
        if copy.destination in jobs:
            job = jobs[copy.destination]
            entry |= {"job": job.id, "calendar_event": job.schedule, "storage": job.storage,
                      "prune_backups": job.prune_backups}
        else:
            sync = syncs[copy.destination]
            entry |= {"sync_job": sync.id, "calendar_event": sync.schedule, "from_datastore": sync.remote_store}
        entry["restore"] = _restore(group, dest, syncs.get(copy.destination), plan)
        copies.append(entry)
    tier = unit.tier
    verify = [s for s in plan.datastores if s.verify_id and any(c.destination == s.destination for c in unit.copies)]
    return {
        "tier": tier, "selector": group.selector, "node": group.node, "rpo_hours": unit.plan.rpo_hours,
        "copies_total": unit.plan.copy_count, "offsite_copies": unit.plan.offsite_count,
        "media": list(unit.plan.media), "copies": copies,
        "verification": {
            "every_days": unit.plan.verify_every_days,
            "pbs_verify_jobs": [s.verify_id for s in verify],
            "manual": "restore one guest of this group to a spare VM id with the commands below, boot it with its "
                      "network disconnected (qm set <new id> --net0 ...,link_down=1) and check the service; "
                      f"tier {tier} asks for it every {unit.plan.verify_every_days or 'so many'} days"
                      if unit.plan.verify_every_days else "not required for this tier",
            "scheduled_drill": next(({"cronjob": d.name, "every_days": d.every_days, "scratch_vmid": d.scratch_vmid,
                                      "healthcheck": d.slug} for d in plan.drills if d.group == group.name), None),
        },
    }


def _restore(group: Guests, dest: Any, sync: Any, plan: ProxmoxPlan) -> list[str]:
    """The commands, run on a PVE node, that bring a guest of this group back from one copy."""
    if isinstance(dest, PbsDestination):
        if sync is not None:
            steps, storage = offsite_restore(dest, sync, plan.offsite)
        else:
            steps, storage = [], dest.storage
        return steps + [
            f"pvesm list {storage} --vmid <vmid>",
            f"qmrestore {storage}:backup/vm/<vmid>/<timestamp> <vmid> --storage {RESTORE_TARGET}",
            f"pct restore <vmid> {storage}:backup/ct/<vmid>/<timestamp> --storage {RESTORE_TARGET}",
            "# single files: proxmox-backup-client restore / 'File Restore' in the storage's Backups view",
        ]
    return [
        f"pvesm list {dest.storage} --content backup --vmid <vmid>",
        f"qmrestore {dest.storage}:backup/vzdump-qemu-<vmid>-<timestamp>.vma.zst <vmid> --storage {RESTORE_TARGET}",
        f"pct restore <vmid> {dest.storage}:backup/vzdump-lxc-<vmid>-<timestamp>.tar.zst --storage {RESTORE_TARGET}",
        "# --force overwrites an existing guest with that id; restore to a new id to compare first",
    ]
