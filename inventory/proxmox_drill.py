"""The guest restore drill's settings (`proxmox.drill`): where a drill may restore, and the token it signs in with.

A drill restores the newest backup of one guest of a tiered group to a scratch VM id, checks the restored guest's
disks against the backup's configuration and destroys it again. It runs with its own API token, separate from the
program's and the coverage check's, limited to the scratch space:

- `VM.Allocate`, `VM.Config.Disk`, `VM.Config.Network`, `VM.Config.Options`, `VM.Config.HWType`, `VM.Config.CPU`,
  `VM.Config.Memory`, `VM.Config.Cloudinit`, `VM.Audit` on `/pool/<pool>` (the scratch pool, which holds only
  drill guests; the restore puts the scratch guest there, so the token can create and destroy it and nothing else);
- `Datastore.AllocateSpace` on `/storage/<storage>` (the scratch storage the restored disks go to);
- `Datastore.Audit` and `Datastore.AllocateSpace` on the backup storage, and `VM.Backup` on the drilled guests (or
  their pools): PVE lets a token read a guest's backup archive only with both (pve-storage `check_volume_access`);
  there is no read-only privilege for backups, so this is the least that restores one;
- `VM.Audit` on `/vms` (to see which guests exist, for `pool`, `all` and `node` selectors).

`pveum` commands creating exactly this are in the runbook (`proxmox.drill.setup`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from inventory.models import Strict
from inventory.proxmox import NODE, TOKEN_ID, PveId, VmId

DRILL_CREDENTIAL = "proxmox_drill"
"""The drill token's secret: `credentials.proxmox_drill.token_secret` or HLB_PROXMOX_DRILL_TOKEN_SECRET."""

Location = tuple[str | int, ...]


class GuestDrill(Strict):
    """Scratch space and token for the scheduled guest restore drills."""

    token_id: Annotated[str, Field(pattern=TOKEN_ID)]
    """`drill@pve!restore`: the drill's own token (privileges in this module's docstring)."""
    node: Annotated[str, Field(pattern=NODE)] | None = None
    """The node drills restore on (its storages must see the backups); default: the first of proxmox.nodes."""
    pool: PveId = "hlb-drill"
    """The scratch pool: restored guests go here, and only the drill token's privileges live here."""
    storage: PveId = "local-lvm"
    """The scratch storage the restored disks are written to (room for the largest drilled guest)."""
    vmid_first: VmId = 990_000
    """The scratch VM id range; each drilled group restores to its own id from it, so no drill touches a guest id
    that could exist for another reason."""
    vmid_last: VmId = 990_099
    timeout_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 240
    """How long a restore task may run before the drill fails (and removes what it restored)."""

    @model_validator(mode="after")
    def _range(self) -> GuestDrill:
        if self.vmid_first > self.vmid_last:
            raise ValueError(f"vmid_first {self.vmid_first} is above vmid_last {self.vmid_last}; the scratch range "
                             "runs from vmid_first up to vmid_last")
        return self


def drill_problems(inv: object) -> list[tuple[Location, str]]:
    """The drill's cross-field rules: a known node, enough scratch ids, none of them a protected guest's."""
    pve = getattr(inv, "proxmox", None)
    drill: GuestDrill | None = getattr(pve, "drill", None)
    if pve is None or drill is None:
        return []
    at = ("proxmox", "drill")
    problems: list[tuple[Location, str]] = []
    if drill.node is not None and drill.node not in pve.nodes:
        problems.append(((*at, "node"), f"unknown node {drill.node!r}; the cluster's nodes are {list(pve.nodes)} "
                         "(proxmox.nodes)"))
    scratch = range(drill.vmid_first, drill.vmid_last + 1)
    for i, group in enumerate(pve.guests):
        for field in ("vmids", "exclude"):
            for j, vmid in enumerate(getattr(group, field) or ()):
                if vmid in scratch:
                    problems.append((("proxmox", "guests", i, field, j), f"VM {vmid} is inside the drill's scratch "
                                     f"range {drill.vmid_first}..{drill.vmid_last}, where drills restore and then "
                                     "destroy guests; move the range (proxmox.drill.vmid_first/vmid_last) clear of "
                                     "every real guest"))
    drilled = [g.name for g in pve.guests if g.tier is not None and inv.tier(g.tier).drill_every_days]  # type: ignore[attr-defined]
    if len(drilled) > len(scratch):
        problems.append(((*at, "vmid_last"), f"{len(drilled)} guest groups are drilled ({drilled}) but the scratch "
                         f"range holds {len(scratch)} ids; widen it to at least {len(drilled)}"))
    if drill.pool in {g.pool for g in pve.guests if g.pool}:
        problems.append(((*at, "pool"), f"pool {drill.pool!r} holds protected guests (a guest group selects it); "
                         "the scratch pool must hold only drill guests: name a pool of its own"))
    return problems


__all__ = ["DRILL_CREDENTIAL", "GuestDrill", "drill_problems"]
