"""Proxmox guests as protection units: PVE backup jobs, PBS sync, prune and verify jobs, and their calendar events.

Each guest group (one tier) is a protection unit whose tool is `vzdump`. Every destination vzdump writes to gets one
PVE backup job (`/cluster/backup`) at a staggered time inside the maintenance window, converted to the nodes' zone
and written as a PVE calendar event, with `prune-backups` from the tier's retention (PVE prunes after each backup,
on PBS storages too). An offsite PBS datastore is filled by a sync job an hour after the backups it copies; the PBS
side keeps it with a prune job (the longest retention of the tiers stored there), verifies it on the tier's cadence
and collects garbage daily. Pure: no Pulumi, no API calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inventory.models import Inventory
from inventory.proxmox import Guests, PbsDestination, Proxmox, PveStorageDestination
from inventory.tiers import Retention
from plan.cron import DAY_MINUTES, Cron, cadence_for
from plan.model import CopyPlan, DatasetPlan
from plan.names import backup_slug, labels
from plan.proxmox_offsite import PbsOffsitePlan, build_offsite_plan
from plan.restore import restore_hours
from plan.stagger import JobRequest, assign
from plan.units import CopyObjects, ProtectionUnit
from plan.zones import utc_offsets, utc_window

if TYPE_CHECKING:
    from plan.proxmox_drill import GuestDrillPlan

TOOL = "vzdump"
SYNC_DELAY_MINUTES = 60
"""A PBS sync job starts an hour after the first backup it copies (vzdump of a few guests fits in an hour)."""
GC_DELAY_MINUTES = 180
"""Garbage collection runs three hours after the sync, clear of backups and sync."""
VERIFY_DELAY_MINUTES = 240
PRUNE_KEYS = ("hourly", "daily", "weekly", "monthly", "yearly")
COVERAGE_SLUG = "proxmox-coverage"
"""The Healthchecks check the coverage check (`/cluster/backup-info/not-backed-up`) pings."""
RESTORE_MBPS = {"pve-storage": 1000.0, "pbs": 1000.0}
"""A restore from the NAS share or a LAN PBS; offsite datastores are read at the home downlink."""
OFFSITE_MBPS = 100.0


# ---------------------------------------------------------------------------------------------
# PVE calendar events (a subset of systemd.time(7); pve-docs "Schedule Format")

SPECIAL = {"minutely": "*:*", "hourly": "*:00", "daily": "00:00", "weekly": "mon 00:00",
           "monthly": "*-*-01 00:00", "yearly": "*-01-01 00:00", "annually": "*-01-01 00:00",
           "quarterly": "*-01,04,07,10-01 00:00", "semiannually": "*-01,07-01 00:00"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = {d + rest: d for d, rest in zip(DAYS, ("day", "sday", "nesday", "rsday", "day", "urday", "day"),
                                             strict=True)}


def _field(spec: str, low: int, high: int, what: str) -> set[int]:
    """Values of one numeric field: `*`, `N`, `N..M`, `N/S`, `*/S`, `N..M/S`, comma lists."""
    values: set[int] = set()
    for item in spec.split(","):
        base, _, step_text = item.partition("/")
        if step_text and not step_text.isdigit() or step_text == "0":
            raise ValueError(f"{what} repetition {item!r} needs a whole step above 0 after '/'")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif re.fullmatch(r"\d+\.\.\d+", base):
            start, end = (int(x) for x in base.split(".."))
        elif base.isdigit():
            start = int(base)
            end = high if step_text else start
        else:
            raise ValueError(f"{what} {item!r} is not a number, a range a..b, '*' or a repetition like */15")
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ValueError(f"{what} {item!r} is outside {low}..{high}")
        values |= set(range(start, end + 1, step))
    return values


def _weekdays(spec: str) -> set[int]:
    days: set[int] = set()
    for item in spec.split(","):
        first, dots, last = item.partition("..")
        names = [_LONG_DAYS.get(n, n) for n in ((first, last) if dots else (first,))]
        if any(n not in DAYS for n in names):
            raise ValueError(f"weekday {item!r} is not one of {', '.join(DAYS)} (or a range like mon..fri)")
        a, b = DAYS.index(names[0]), DAYS.index(names[-1])
        days |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
    return days


@dataclass(frozen=True)
class CalendarEvent:
    """A parsed PVE calendar event: weekdays (0 = Monday), whether a date narrows it, hours and minutes."""

    weekdays: frozenset[int]
    dated: bool
    hours: frozenset[int]
    minutes: frozenset[int]


def parse_calendar(text: str) -> CalendarEvent:
    """Parse a calendar event as PVE does; ValueError says why it cannot."""
    text = SPECIAL.get(text.strip(), text.strip())
    tokens = text.split()
    if not tokens or len(tokens) > 3:
        raise ValueError("expected [WEEKDAY] [[YEAR-]MONTH-DAY] [HOUR:MINUTE]")
    weekdays, dated, time = set(range(7)), False, None
    for position, token in enumerate(tokens):
        if re.match(r"[A-Za-z]", token):
            if position != 0:
                raise ValueError(f"weekday {token!r} must come first")
            weekdays = _weekdays(token.lower())
        elif "-" in token:
            parts = token.split("-")
            if len(parts) not in (2, 3) or time is not None:
                raise ValueError(f"date {token!r} must be [YEAR-]MONTH-DAY, before the time")
            limits = [(1970, 9999, "year"), (1, 12, "month"), (1, 31, "day")][-len(parts):]
            for part, (low, high, what) in zip(parts, limits, strict=True):
                _field(part, low, high, what)
            dated = any(p != "*" for p in parts)
        else:
            if time is not None:
                raise ValueError(f"two times ({time!r} and {token!r})")
            time = token
    hours, minutes = {0}, {0}
    if time is not None:
        parts = time.split(":")
        if len(parts) == 1:
            hours, minutes = set(range(24)), _field(parts[0], 0, 59, "minute")
        elif len(parts) in (2, 3):
            hours, minutes = _field(parts[0], 0, 23, "hour"), _field(parts[1], 0, 59, "minute")
            if len(parts) == 3:
                _field(parts[2], 0, 59, "second")
        else:
            raise ValueError(f"time {time!r} must be HOUR:MINUTE[:SECOND]")
    return CalendarEvent(frozenset(weekdays), dated, frozenset(hours), frozenset(minutes))


def calendar_problem(text: str) -> str | None:
    """Why PVE would refuse this calendar event, or None."""
    try:
        parse_calendar(text)
    except ValueError as exc:
        return str(exc)
    return None


def calendar_interval_hours(text: str) -> int:
    """The longest gap between two runs, in whole hours (rounded up): the RPO the schedule guarantees."""
    event = parse_calendar(text)
    if event.dated:
        return 24 * 31
    starts = sorted(d * DAY_MINUTES + h * 60 + m for d in event.weekdays for h in event.hours for m in event.minutes)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)] + [starts[0] + 7 * DAY_MINUTES - starts[-1]]
    return -(-max(gaps) // 60)


def calendar_event(local: Cron) -> str:
    """A plan schedule (already on the nodes' clock) as a PVE calendar event."""
    at = f"{local.minute:02d}"
    if local.day_of_month is not None:
        return f"*-*-{local.day_of_month:02d} {local.first_hour:02d}:{at}"
    if local.weekday is not None:
        return f"{DAYS[(local.weekday - 1) % 7]} {local.first_hour:02d}:{at}"
    return f"{local.hours_field()}:{at}" if local.every_hours != 24 else f"{local.first_hour:02d}:{at}"


def prune_backups(retention: Retention) -> str:
    """PVE/PBS `prune-backups` from a tier's retention: `keep-daily=14,keep-weekly=4,keep-monthly=3`."""
    levels = retention.levels()
    return ",".join(f"keep-{k}={levels[k]}" for k in PRUNE_KEYS if k in levels) or "keep-last=1"


# ---------------------------------------------------------------------------------------------
# Plan records


@dataclass(frozen=True)
class PveJob:
    """One `/cluster/backup` job: a guest group to one storage."""

    id: str
    """The job id, `hlb-<group>-<destination>` (how the program finds it again)."""
    group: str
    tier: int
    destination: str
    storage: str
    schedule: str
    """Calendar event on the nodes' clock."""
    utc: Cron
    selection: tuple[tuple[str, str | int], ...]
    """`vmid`, `pool` or `all` (+ `exclude`), and `node`, as the API takes them."""
    mode: str
    compress: str
    prune_backups: str
    notes_template: str
    comment: str


@dataclass(frozen=True)
class PbsSyncJob:
    """A PBS sync job filling an offsite datastore from the one vzdump writes: a pull on `proxmox.pbs`, or a push
    from it to a remote PBS (`store` is then the local source, `remote_store` the target)."""

    id: str
    store: str
    remote_store: str
    remote: str | None
    schedule: str
    utc: Cron
    destination: str
    direction: str = "pull"


@dataclass(frozen=True)
class PbsDatastoreJobs:
    """What PBS runs on one datastore: garbage collection, a prune job, a verify job."""

    datastore: str
    destination: str
    gc_schedule: str
    prune_id: str | None
    """Synced datastores only: a datastore vzdump writes is pruned by the PVE jobs' `prune-backups` after each
    backup, and a second pruner with other rules would fight it."""
    prune_schedule: str | None
    prune: Retention | None
    verify_id: str | None
    verify_schedule: str | None
    outdated_after_days: int | None
    server: str | None = None
    """The remote PBS the datastore lives on (its jobs run there); None: `proxmox.pbs`."""


@dataclass(frozen=True)
class ProxmoxPlan:
    """Everything decided for the Proxmox estate."""

    units: tuple[ProtectionUnit, ...]
    """One per guest group (tool `vzdump`), with its copies and their times."""
    jobs: tuple[PveJob, ...]
    syncs: tuple[PbsSyncJob, ...]
    datastores: tuple[PbsDatastoreJobs, ...]
    node_utc_offset_minutes: int
    coverage_schedule: Cron = Cron(0)
    """When the coverage check runs (UTC, daily): at the end of the maintenance window, after the night's jobs."""
    coverage_slug: str = COVERAGE_SLUG
    drills: tuple[GuestDrillPlan, ...] = ()
    """Scheduled guest restore drills, one per drilled group (plan/proxmox_drill.py)."""
    offsite: PbsOffsitePlan = PbsOffsitePlan((), ())
    """S3 endpoints and S3-backed datastores on `proxmox.pbs`, and remote PBS servers with their sync tokens."""


def node_offset(inv: Inventory, pve: Proxmox) -> int:
    """Minutes the nodes' clock is ahead of UTC in standard time (as `plan.build.nas_utc_offset` for the NAS)."""
    return utc_offsets(pve.timezone or inv.schedule.timezone)[0]


def _selection(group: Guests) -> tuple[tuple[str, str | int], ...]:
    chosen: list[tuple[str, str | int]] = []
    if group.vmids is not None:
        chosen.append(("vmid", ",".join(str(v) for v in group.vmids)))
    elif group.pool is not None:
        chosen.append(("pool", group.pool))
    else:
        chosen.append(("all", 1))
        if group.exclude:
            chosen.append(("exclude", ",".join(str(v) for v in group.exclude)))
    if group.node is not None:
        chosen.append(("node", group.node))
    return tuple(chosen)


def _fixed(schedule: str, offset: int) -> Cron | None:
    """A group's fixed calendar event as a UTC Cron, where it is one daily time (for staggering the sync)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", schedule)
    if not match:
        return None
    return Cron((int(match[1]) * 60 + int(match[2]) - offset) % DAY_MINUTES)


def build_proxmox_plan(inv: Inventory) -> ProxmoxPlan | None:
    """Compile the `proxmox` section. Pure and deterministic."""
    pve: Proxmox | None = getattr(inv, "proxmox", None)
    if pve is None:
        return None
    offset = node_offset(inv, pve)
    window = utc_window(inv.schedule.maintenance_window.minutes(), inv.schedule.timezone)
    requests = []
    for group in pve.guests:
        tier = inv.tier(group.tier or 3)
        rpo = min(tier.rpo_hours, group.rpo_hours or tier.rpo_hours)
        for dest in pve.destinations_of(group):
            if not _synced(dest):
                every, weekly = cadence_for(rpo)
                requests.append(JobRequest(f"{group.name}/{dest.name}", f"pve/{dest.name}", every, weekly, window))
    times = assign(requests)

    jobs: list[PveJob] = []
    for group in pve.guests:
        tier_no = group.tier or 3
        tier = inv.tier(tier_no)
        for dest in pve.destinations_of(group):
            if _synced(dest):
                continue
            key = f"{group.name}/{dest.name}"
            utc = (_fixed(group.schedule, offset) or times[key]) if group.schedule else times[key]
            retention = tier.offsite_retention if dest.offsite else tier.local_retention
            jobs.append(PveJob(
                id=f"hlb-{group.name}-{dest.name}", group=group.name, tier=tier_no, destination=dest.name,
                storage=_storage(dest), schedule=group.schedule or calendar_event(utc.shifted(offset)), utc=utc,
                selection=_selection(group), mode=group.mode, compress=group.compress,
                prune_backups=prune_backups(retention), notes_template=group.notes_template,
                comment=f"homelab-backups {group.name} tier {tier_no} ({group.selector}) to {dest.name}"))
    syncs: list[PbsSyncJob] = []
    for dest in pve.destinations:
        if isinstance(dest, PbsDestination) and dest.sync_from is not None:
            source = pve.destination(dest.sync_from)
            first = min((j.utc for j in jobs if j.destination == source.name), default=Cron(window[0] % DAY_MINUTES))
            utc = Cron((first.minute_of_day + SYNC_DELAY_MINUTES) % DAY_MINUTES)
            push = dest.remote is not None
            syncs.append(PbsSyncJob(id=f"hlb-{dest.name}", store=source.datastore if push else dest.datastore,
                                    remote_store=dest.datastore if push else source.datastore,
                                    remote=dest.remote, schedule=calendar_event(utc.shifted(offset)), utc=utc,
                                    destination=dest.name, direction="push" if push else "pull"))
    units = []
    for group in pve.guests:
        tier = inv.tier(group.tier or 3)
        copies: list[CopyPlan] = []
        for dest in pve.destinations_of(group):
            retention = tier.offsite_retention if dest.offsite else tier.local_retention
            if _synced(dest):
                sync = next(s for s in syncs if s.destination == dest.name)
                copies.append(_copy(group, dest, sync.utc, retention))
            else:
                job = next(j for j in jobs if j.group == group.name and j.destination == dest.name)
                copies.append(_copy(group, dest, job.utc, retention))
        units.append(_unit(group, group.tier or 3, tuple(copies), tier.verify_every_days, tier.alerts))

    datastores = tuple(_datastore_jobs(inv, pve, dest, jobs, syncs, offset) for dest in pve.destinations
                       if isinstance(dest, PbsDestination))
    coverage = Cron(window[1] % DAY_MINUTES)
    return ProxmoxPlan(tuple(units), tuple(jobs), tuple(syncs), datastores, offset, coverage,
                       offsite=build_offsite_plan(inv))


def _synced(dest: PveStorageDestination | PbsDestination) -> bool:
    return isinstance(dest, PbsDestination) and dest.sync_from is not None


def _storage(dest: PveStorageDestination | PbsDestination) -> str:
    storage = dest.storage
    assert storage is not None
    return storage


def _copy(group: Guests, dest: PveStorageDestination | PbsDestination, utc: Cron, retention: Retention) -> CopyPlan:
    mbps = OFFSITE_MBPS if dest.offsite else RESTORE_MBPS[dest.kind]
    where = f"pbs://{dest.datastore}" if isinstance(dest, PbsDestination) else f"pve://{dest.storage}"
    return CopyPlan(
        dataset=group.name, destination=dest.name, kind=dest.kind, offsite=dest.offsite, media=dest.media,
        tool=TOOL, bucket="", endpoint=where, region="", repository=f"vzdump/{group.name}", schedule=utc,
        retention=retention, lock_days=0, checksum_env=False, healthcheck_slug=backup_slug(group.name, dest.name),
        restore_mbps=mbps, restore_hours=restore_hours(group.size_gb, mbps, TOOL))


def _unit(group: Guests, tier: int, copies: tuple[CopyPlan, ...], verify_days: int,
          alerts: tuple[str, ...]) -> ProtectionUnit:
    rpo = min((c.schedule.interval_hours for c in copies), default=0)
    dataset = DatasetPlan(
        name=group.name, tier=tier, source_kind="proxmox", rpo_hours=rpo, copies=copies,
        verify_every_days=verify_days, alerts=alerts,
        media=tuple(sorted({"host-disk"} | {c.media for c in copies})), size_gb=group.size_gb)
    objects = tuple(CopyObjects(destination=c.destination, labels=labels(group.name, tier, c.destination),
                                backup_slug=c.healthcheck_slug) for c in copies)
    return ProtectionUnit(dataset=group.name, tier=tier, kind="proxmox", tool=TOOL, source=group,  # type: ignore[arg-type]
                          plan=dataset, namespace=None, labels=labels(group.name, tier), objects=objects)


def _datastore_jobs(inv: Inventory, pve: Proxmox, dest: PbsDestination, jobs: list[PveJob],
                    syncs: list[PbsSyncJob], offset: int) -> PbsDatastoreJobs:
    tiers = sorted({g.tier or 3 for g in pve.guests if dest in pve.destinations_of(g)}) or [3]
    settings = [inv.tier(t) for t in tiers]
    retentions = [s.offsite_retention if dest.offsite else s.local_retention for s in settings]
    keep = Retention(**{k: max(getattr(r, k) for r in retentions) for k in PRUNE_KEYS})
    writes = [j.utc for j in jobs if j.destination == dest.name] + [s.utc for s in syncs if s.destination == dest.name]
    first = min(writes, default=Cron(0))
    gc = Cron((first.minute_of_day + GC_DELAY_MINUTES) % DAY_MINUTES)
    prune = Cron((first.minute_of_day + GC_DELAY_MINUTES - 30) % DAY_MINUTES)
    synced = dest.sync_from is not None
    verify_days = min((s.verify_every_days for s in settings if s.verify_every_days), default=0)
    verify = Cron((first.minute_of_day + VERIFY_DELAY_MINUTES) % DAY_MINUTES,
                  weekday=6 if 7 <= verify_days < 28 else None, day_of_month=2 if verify_days >= 28 else None)
    return PbsDatastoreJobs(
        datastore=dest.datastore, destination=dest.name, gc_schedule=calendar_event(gc.shifted(offset)),
        prune_id=f"hlb-{dest.name}" if synced else None,
        prune_schedule=calendar_event(prune.shifted(offset)) if synced else None, prune=keep if synced else None,
        verify_id=f"hlb-{dest.name}" if verify_days else None,
        verify_schedule=calendar_event(verify.shifted(offset)) if verify_days else None,
        outdated_after_days=verify_days or None, server=dest.remote)
