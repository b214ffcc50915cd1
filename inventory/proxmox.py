"""The `proxmox` section: a Proxmox VE cluster whose guests (VMs and containers) are protected by tier.

Guests are selected in groups, each group one tier: by VM id list, by pool, or all guests except a list, on one
node or cluster-wide. A group's copies go to Proxmox destinations: a PVE storage that `vzdump` writes to (for
example the NAS NFS share) or a Proxmox Backup Server datastore, either written by `vzdump` through its PVE storage
or filled by a PBS sync job from another datastore (how an offsite PBS copy is made). The API token secret is a
credential (`credentials.proxmox.token_secret`), never inventory.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from inventory.models import NAME, URL, Name, Strict

Location = tuple[str | int, ...]

TOKEN_ID = r"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]*$"
"""`user@realm!tokenname`, as Datacenter > Permissions > API Tokens shows it."""
PVE_ID = r"^[A-Za-z][A-Za-z0-9_.-]*$"
"""PVE storage ids, pool ids and PBS datastore names."""
NODE = r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$"

PVE_CREDENTIAL = "proxmox"
"""The PVE token secret: `credentials.proxmox.token_secret` or HLB_PROXMOX_TOKEN_SECRET."""
PBS_CREDENTIAL = "pbs"
"""The PBS token secret: `credentials.pbs.token_secret` or HLB_PBS_TOKEN_SECRET."""
AUDIT_CREDENTIAL = "proxmox_audit"
"""The coverage check's read-only token: `credentials.proxmox_audit.token_secret` or
HLB_PROXMOX_AUDIT_TOKEN_SECRET."""
TOKEN_FIELDS = ("token_secret",)

VmId = Annotated[int, Field(ge=100, le=999_999_999)]
PveId = Annotated[str, Field(pattern=PVE_ID, max_length=64)]


class _Tls(Strict):
    api_url: Annotated[str, Field(pattern=URL)]
    """`https://pve1.lan:8006` (PVE) or `https://pbs.lan:8007` (PBS)."""
    token_id: Annotated[str, Field(pattern=TOKEN_ID)]
    """`user@realm!name`; its secret is `credentials.<section>.token_secret`."""
    verify_tls: bool = True
    verify_tls_reason: Annotated[str, Field(min_length=10)] | None = None
    """Required with `verify_tls: false`: why the certificate cannot be verified (shown in the runbook)."""
    ca_file: Annotated[str, Field(min_length=1)] | None = None
    """PEM bundle of the CA that signed the API's certificate (PVE's own cluster CA by default)."""

    @model_validator(mode="after")
    def _tls(self) -> _Tls:
        if not self.api_url.startswith("https://"):
            raise ValueError(f"api_url {self.api_url!r} must be https:// (every request carries the API token)")
        if not self.verify_tls and not self.verify_tls_reason:
            raise ValueError("verify_tls: false would send the API token to whoever answers on the network: set "
                             "ca_file to the cluster's CA (/etc/pve/pve-root-ca.pem) instead, or, if you must, set "
                             "verify_tls_reason to say why (it is shown in the runbook)")
        if self.verify_tls and self.verify_tls_reason:
            raise ValueError("verify_tls_reason only applies with verify_tls: false; remove it")
        return self


class PbsServer(_Tls):
    """The Proxmox Backup Server whose datastores hold `pbs` copies, and where their jobs are configured."""


PBS_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"
"""PBS's safe id (datastores, remotes, S3 endpoints): 3 to 32 characters."""
PbsName = Annotated[str, Field(pattern=PBS_NAME, min_length=3, max_length=32)]
FINGERPRINT = r"^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$"


class PbsRemote(_Tls):
    """A second Proxmox Backup Server (offsite) that `proxmox.pbs` pushes a datastore to with a sync job.

    `token_id` is an admin token on that server (its secret `credentials.pbs-remote-<name>.token_secret`): the
    program creates there a sync user and token with DatastoreBackup on the target datastore only, and on
    `proxmox.pbs` the remote entry (Configuration > Remotes) that signs in with it."""

    name: PbsName
    """The remote's id on `proxmox.pbs` (Configuration > Remotes)."""
    fingerprint: Annotated[str, Field(pattern=FINGERPRINT)] | None = None
    """The remote's certificate fingerprint (`proxmox-backup-manager cert info`), which `proxmox.pbs` pins;
    required unless the certificate chains to a public CA."""

    @property
    def credentials_entry(self) -> str:
        return remote_credential(self.name)


def remote_credential(name: str) -> str:
    """A remote PBS's admin token secret: `credentials.pbs-remote-<name>.token_secret`."""
    return f"pbs-remote-{name}"


class PveStorageDestination(Strict):
    """A PVE storage `vzdump` writes to: an NFS share on the NAS, a local directory, a CIFS share."""

    name: Name
    kind: Literal["pve-storage"]
    storage: PveId
    """The PVE storage id (Datacenter > Storage), e.g. `truenas-backups`."""
    offsite: bool = False
    media: Literal["nas-disk", "host-disk", "object-storage"] = "nas-disk"
    """Where the storage's disks are, for the 3-2-1 "two media" rule."""
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 0.0


class PbsDestination(Strict):
    """A PBS datastore: written by `vzdump` through the PVE storage that points at it, or filled by a sync job."""

    name: Name
    kind: Literal["pbs"]
    datastore: PveId
    """The datastore's name on the PBS server."""
    storage: PveId | None = None
    """The PVE storage id of type `pbs` that points at this datastore; needed when `vzdump` writes here."""
    sync_from: Name | None = None
    """Another `pbs` destination this datastore pulls from with a PBS sync job (the offsite copy)."""
    remote: PveId | None = None
    """The remote PBS (a `proxmox.remotes` name) this datastore lives on: `proxmox.pbs` pushes `sync_from` to it;
    omitted: the datastore is on `proxmox.pbs` (a local sync)."""
    s3: Name | None = None
    """A top-level object-storage destination (b2, s3, r2, s3-compatible) whose bucket backs this datastore: the
    program creates the S3 endpoint (with a key of its own, scoped to the datastore's prefix) and the datastore."""
    cache_path: Annotated[str, Field(pattern=r"^/.+")] | None = None
    """With `s3`: the local cache directory PBS keeps for the datastore; default `/mnt/datastore/<datastore>`."""
    offsite: bool = False
    media: Literal["backup-server", "object-storage"] = "backup-server"
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 0.0

    @model_validator(mode="after")
    def _written_or_synced(self) -> PbsDestination:
        if self.sync_from is None and self.storage is None:
            raise ValueError("a pbs destination is written by vzdump through a PVE storage or filled by a sync job: "
                             "set storage (the PVE storage id pointing at this datastore) or sync_from")
        if self.sync_from is not None and self.storage is not None:
            raise ValueError("set either storage (vzdump writes here) or sync_from (a sync job fills it), not both")
        if self.remote is not None and self.sync_from is None:
            raise ValueError("remote only applies to a synced datastore; set sync_from or remove remote")
        if self.s3 is not None and self.remote is not None:
            raise ValueError("a datastore is either S3-backed on proxmox.pbs (s3) or on a remote PBS (remote), "
                             "not both; on the remote, give its datastore an S3 backend yourself")
        if self.cache_path is not None and self.s3 is None:
            raise ValueError("cache_path only applies to an S3-backed datastore (s3); remove it")
        return self


ProxmoxDestination = Annotated[PveStorageDestination | PbsDestination, Field(discriminator="kind")]


class Guests(Strict):
    """One tier's guests: by VM id list, by pool, or every guest except a list; on one node or cluster-wide."""

    name: Name
    tier: Literal[1, 2, 3] | None = None
    """Required; optional in the model only so an untiered selector gets its own message."""
    size_gb: Annotated[float, Field(gt=0, le=1_000_000)]
    """Backed-up size of the group (the cost estimate)."""
    vmids: tuple[VmId, ...] | None = None
    pool: PveId | None = None
    all: bool = False
    exclude: tuple[VmId, ...] = ()
    """With `all: true`: guests left out (another group's, or ones not worth a copy)."""
    node: Annotated[str, Field(pattern=NODE)] | None = None
    """Only guests on this node; omitted: cluster-wide."""
    destinations: Annotated[tuple[Name, ...], Field(min_length=1)] | None = None
    """Proxmox destinations; default: every local one `vzdump` writes to, plus every offsite one for tier 1."""
    schedule: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """A fixed PVE calendar event (`21:00`, `mon..fri 02:30`) instead of the plan's staggered time, e.g. because
    the NAS is only on in the evening; it must still meet the tier's RPO."""
    rpo_hours: Annotated[int, Field(ge=1, le=24 * 31)] | None = None
    mode: Literal["snapshot", "suspend", "stop"] = "snapshot"
    compress: Literal["zstd", "lzo", "gzip", "0"] = "zstd"
    notes_template: Annotated[str, Field(min_length=1, max_length=1024)] = "{{guestname}} ({{vmid}}), {{cluster}}"

    @model_validator(mode="after")
    def _one_selector(self) -> Guests:
        chosen = [k for k, on in (("vmids", self.vmids is not None), ("pool", self.pool is not None),
                                  ("all", self.all)) if on]
        if len(chosen) != 1:
            raise ValueError(f"select guests one way: vmids (a list), pool, or all: true with exclude (here "
                             f"{chosen or 'none'})")
        if self.exclude and not self.all:
            raise ValueError("exclude only applies to all: true; list the vmids you want instead")
        if self.vmids is not None and len(set(self.vmids)) != len(self.vmids):
            raise ValueError("vmids lists a guest twice; list each once")
        return self

    @property
    def selector(self) -> str:
        """Words for the runbook: `VMs 100, 101`, `pool media`, `all guests except 200`."""
        if self.vmids is not None:
            return "guests " + ", ".join(str(v) for v in self.vmids)
        if self.pool is not None:
            return f"pool {self.pool}"
        return "all guests" + (" except " + ", ".join(str(v) for v in self.exclude) if self.exclude else "")


class Proxmox(_Tls):
    """A Proxmox VE cluster (API token auth), its backup destinations and its guests by tier."""

    nodes: Annotated[tuple[Annotated[str, Field(pattern=NODE)], ...], Field(min_length=1)]
    """The cluster's nodes, as `pvecm nodes` names them."""
    timezone: str | None = None
    """The nodes' zone (`timedatectl`), which job schedules are read in; defaults to schedule.timezone."""
    pbs: PbsServer | None = None
    coverage_token_id: Annotated[str, Field(pattern=TOKEN_ID)] | None = None
    """A read-only token (role PVEAuditor on /) for the daily coverage check, a CronJob asking PVE which guests no
    job covers and reporting to Healthchecks; its secret is `credentials.proxmox_audit.token_secret`. Omitted: no
    coverage check is scheduled (the runbook gives the command)."""
    destinations: tuple[ProxmoxDestination, ...] = ()
    guests: tuple[Guests, ...] = ()
    drill: GuestDrill | None = None
    """The scheduled guest restore drill's scratch space and token (inventory/proxmox_drill.py); omitted: no
    drill is scheduled (the pack refuses that for tiers that demand drills)."""
    remotes: tuple[PbsRemote, ...] = ()
    """Offsite PBS servers `pbs` destinations with `remote` live on."""

    def destination(self, name: str) -> PveStorageDestination | PbsDestination:
        return next(d for d in self.destinations if d.name == name)

    def destinations_of(self, group: Guests) -> tuple[PveStorageDestination | PbsDestination, ...]:
        """A group's copies: its list, or every local vzdump target plus (tier 1) every offsite one."""
        if group.destinations is not None:
            return tuple(self.destination(n) for n in group.destinations if n in self.names)
        local = [d for d in self.destinations if not d.offsite and _written_by_vzdump(d)]
        offsite = [d for d in self.destinations if d.offsite]
        return tuple(local + offsite) if group.tier == 1 else tuple(local)

    def credentials(self) -> list[tuple[str, tuple[str, ...]]]:
        """(credential entry, fields) the program and its providers read for this section."""
        needed = [(PVE_CREDENTIAL, TOKEN_FIELDS)] if self.guests else []
        if self.pbs is not None and any(isinstance(d, PbsDestination) for d in self.destinations):
            needed.append((PBS_CREDENTIAL, TOKEN_FIELDS))
        if self.coverage_token_id is not None:
            needed.append((AUDIT_CREDENTIAL, TOKEN_FIELDS))
        if self.drill is not None:
            needed.append((DRILL_CREDENTIAL, TOKEN_FIELDS))
        used = {d.remote for d in self.destinations if isinstance(d, PbsDestination)}
        needed += [(r.credentials_entry, TOKEN_FIELDS) for r in self.remotes if r.name in used]
        return needed

    @property
    def names(self) -> set[str]:
        return {d.name for d in self.destinations}


# The drill's settings build on the types above; imported here so the module cycle resolves.
from inventory.proxmox_drill import DRILL_CREDENTIAL, GuestDrill  # noqa: E402

Proxmox.model_rebuild()


def _written_by_vzdump(dest: PveStorageDestination | PbsDestination) -> bool:
    return isinstance(dest, PveStorageDestination) or dest.sync_from is None


# ---------------------------------------------------------------------------------------------
# Cross-field rules


def proxmox_problems(inv: object) -> list[tuple[Location, str]]:
    """Every problem of the `proxmox` section, located under it (`proxmox.guests[2].vmids[0]`)."""
    pve: Proxmox | None = getattr(inv, "proxmox", None)
    if pve is None:
        return []
    from plan.proxmox import calendar_interval_hours, calendar_problem

    problems: list[tuple[Location, str]] = []
    taken = {d.name for d in getattr(inv, "destinations", ())} | {d.name for d in getattr(inv, "datasets", ())}
    seen: dict[str, int] = {}
    for i, dest in enumerate(pve.destinations):
        if dest.name in taken or dest.name in seen:
            problems.append((("proxmox", "destinations", i, "name"), f"name {dest.name!r} is already used by a "
                             "destination, dataset or another proxmox destination; names must be unique"))
        seen.setdefault(dest.name, i)
        if isinstance(dest, PbsDestination):
            problems += [(("proxmox", "destinations", i, *loc), msg) for loc, msg in _pbs_problems(pve, dest)]
    for i, group in enumerate(pve.guests):
        if group.name in taken or group.name in seen:
            problems.append((("proxmox", "guests", i, "name"), f"name {group.name!r} is already used by a dataset, "
                             "destination or another guest group; names must be unique"))
        seen.setdefault(group.name, i)
        at = ("proxmox", "guests", i)
        if group.tier is None:
            what = "all: true selects every guest" if group.all else f"{group.selector} are selected"
            problems.append(((*at, "tier"), f"{what} but no tier says what they are worth: set tier: 1, 2 or 3 "
                             "(the tier of every guest it covers), or split them into one group per tier"))
            continue
        if group.node is not None and group.node not in pve.nodes:
            problems.append(((*at, "node"), f"unknown node {group.node!r}; the cluster's nodes are "
                             f"{list(pve.nodes)} (proxmox.nodes)"))
        if group.schedule is not None:
            why = calendar_problem(group.schedule)
            if why:
                problems.append(((*at, "schedule"), f"PVE cannot parse {group.schedule!r} as a calendar event: "
                                 f"{why}; write e.g. '21:00', 'mon..fri 02:30' or '*-*-* 0/6:00'"))
            else:
                rpo = _rpo(inv, group)
                every = calendar_interval_hours(group.schedule)
                if every > rpo:
                    problems.append(((*at, "schedule"), f"{group.schedule!r} runs at most every {every} h, looser "
                                     f"than the tier {group.tier} RPO of {rpo} h; run it at least that often"))
        problems += [((*at, *loc), msg) for loc, msg in _copy_problems(inv, pve, group)]
    problems += _overlaps(pve)
    from inventory.proxmox_offsite import offsite_problems

    problems += offsite_problems(inv, pve)
    if pve.coverage_token_id is not None and getattr(getattr(inv, "monitoring", None), "healthchecks", None) is None:
        problems.append((("proxmox", "coverage_token_id"), "the coverage check reports to Healthchecks: set "
                         "monitoring.healthchecks.ping_base, or remove coverage_token_id"))
    if pve.guests and not pve.destinations:
        problems.append((("proxmox", "destinations"), "guests are listed but no proxmox destination takes their "
                         "backups; declare a pve-storage (e.g. the NAS NFS share) or a pbs datastore"))
    return problems


def _rpo(inv: object, group: Guests) -> int:
    tier = inv.tier(group.tier)  # type: ignore[attr-defined]
    return min(tier.rpo_hours, group.rpo_hours or tier.rpo_hours)


def _pbs_problems(pve: Proxmox, dest: PbsDestination) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    if pve.pbs is None:
        problems.append((("kind",), "pbs destinations need the PBS server they live on: add proxmox.pbs with "
                         "api_url and token_id"))
    if dest.sync_from is not None:
        source = next((d for d in pve.destinations if d.name == dest.sync_from), None)
        if not isinstance(source, PbsDestination) or source.name == dest.name:
            pbs = sorted(d.name for d in pve.destinations if isinstance(d, PbsDestination) and d.name != dest.name)
            problems.append((("sync_from",), f"{dest.sync_from!r} is not another pbs destination; a sync job copies "
                             f"between PBS datastores: name one of {pbs}"))
        elif source.sync_from is not None:
            problems.append((("sync_from",), f"{source.name!r} is itself filled by a sync job; sync from the "
                             f"datastore vzdump writes ({source.sync_from!r} or the one it syncs from)"))
    return problems


def _copy_problems(inv: object, pve: Proxmox, group: Guests) -> list[tuple[Location, str]]:
    unknown = [(("destinations", j), f"unknown proxmox destination {name!r}; declare it under "
                f"proxmox.destinations or use one of {sorted(pve.names)}")
               for j, name in enumerate(group.destinations or ()) if name not in pve.names]
    if unknown:
        return unknown
    dests = pve.destinations_of(group)
    names = [d.name for d in dests]
    problems: list[tuple[Location, str]] = []
    for j, dest in enumerate(dests):
        if not isinstance(dest, PbsDestination) or dest.sync_from is None:
            if isinstance(dest, PbsDestination) and dest.offsite:
                problems.append((("destinations", j), f"PBS datastore {dest.name!r} is used as an offsite copy but "
                                 "no sync job fills it (vzdump would write across the WAN with no local copy to "
                                 "restore from first): set sync_from on it to the local pbs destination these guests "
                                 "write to, and give them that one too"))
            continue
        if dest.sync_from not in names:
            problems.append((("destinations", j), f"{dest.name!r} is filled by a sync job from {dest.sync_from!r}, "
                             f"which these guests do not write to; add {dest.sync_from!r} to their destinations"))
    if not any(_written_by_vzdump(d) for d in dests):
        problems.append((("destinations",), f"no copy of these guests would be made: vzdump writes to a pve-storage "
                         f"or a pbs destination with storage; declared: {sorted(pve.names)}"))
        return problems
    tier = group.tier
    offsite = [d for d in dests if d.offsite]
    if tier == 1 and not offsite:
        available = sorted(d.name for d in pve.destinations if d.offsite)
        fix = f"add one of {available}" if available else ("declare an offsite pbs datastore filled by a sync job "
                                                           "(sync_from) and add it")
        problems.append((("destinations",), f"tier 1 needs at least one offsite copy; {fix}"))
    if tier == 1 and not problems:
        media = sorted({"host-disk"} | {d.media for d in dests})
        if len(dests) + 1 < 3 or len(media) < 2:
            problems.append((("destinations",), f"tier 1 needs 3 copies (the guest's own disks included) on 2 "
                             f"media; it has {len(dests) + 1} on {media}: add a destination"))
    if tier in (2, 3) and all(d.offsite for d in dests):
        problems.append((("destinations",), f"tier {tier} needs a local copy; add a local pve-storage or pbs "
                         "destination"))
    if tier == 3 and offsite:
        problems.append((("destinations",), f"tier 3 guests are re-creatable and stay local; remove "
                         f"{[d.name for d in offsite]}"))
    return problems


def _overlaps(pve: Proxmox) -> list[tuple[Location, str]]:
    """A guest belongs to one tier: the same id in two groups, or an `all` group covering another group's id."""
    problems: list[tuple[Location, str]] = []
    first: dict[int, int] = {}
    for i, group in enumerate(pve.guests):
        for j, vmid in enumerate(group.vmids or ()):
            if vmid in first:
                other = pve.guests[first[vmid]]
                problems.append((("proxmox", "guests", i, "vmids", j), f"VM {vmid} is already in guests[{first[vmid]}] "
                                 f"({other.name!r}, tier {other.tier}); a guest has one tier: remove it here or there"))
            first.setdefault(vmid, i)
    alls = [i for i, g in enumerate(pve.guests) if g.all]
    for i in alls:
        group = pve.guests[i]
        for k in alls:
            other = pve.guests[k]
            if k > i and (group.node is None or other.node is None or group.node == other.node):
                problems.append((("proxmox", "guests", k, "all"), f"guests[{i}] ({group.name!r}) already selects all "
                                 "guests on this scope; use one `all` group per node, with the others by vmids"))
        for k, other in enumerate(pve.guests):
            for j, vmid in enumerate(other.vmids or ()):
                if k != i and vmid not in group.exclude:
                    problems.append((("proxmox", "guests", k, "vmids", j), f"VM {vmid} is also covered by guests[{i}] "
                                     f"({group.name!r}, all guests, tier {group.tier}); a guest has one tier: add "
                                     f"{vmid} to proxmox.guests[{i}].exclude"))
        if any(o.pool for o in pve.guests):
            pools = [o.pool for o in pve.guests if o.pool]
            problems.append((("proxmox", "guests", i, "all"), f"all guests includes the members of pools {pools}, "
                             "which other groups tier; select by vmids here, or pools everywhere"))
    return problems


__all__ = ["NAME", "Guests", "PbsDestination", "PbsRemote", "PbsServer", "Proxmox", "PveStorageDestination",
           "proxmox_problems"]
