"""Compile an inventory into a plan: schedules, retention, buckets, lifecycle, locks and cost."""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from dataclasses import replace

from inventory.models import (
    Dataset,
    ExportSource,
    HostSource,
    Inventory,
    NasConfigSource,
    NfsDestination,
    PostgresSource,
    PvcSource,
    TruenasSource,
)
from inventory.tiers import Retention, TierSettings
from plan import kopiur
from plan.capabilities import capabilities_of
from plan.cron import Cron, cadence_for
from plan.model import (
    BucketPlan,
    CopyPlan,
    DatasetPlan,
    ExportPlan,
    Lifecycle,
    PgBackRestSchedule,
    Plan,
    SnapshotLevel,
    Writer,
)
from plan.names import (
    CRONJOB_NAME_LIMIT,
    LABEL_VERIFICATION,
    backup_slug,
    bucket_key,
    ca_config_map,
    labels,
    object_name,
    writer_key,
)
from plan.nas_config import NAS_CONFIG_TOOL, nas_config_export
from plan.proxmox import build_proxmox_plan
from plan.proxmox_drill import guest_drills
from plan.proxmox_offsite import pbs_writers
from plan.repositories import pgbackrest_repository, volsync_repository
from plan.restore import restore_hours, restore_mbps
from plan.stagger import JobRequest, after_backups, assign, every_days
from plan.units import (
    CHECK,
    CHECK_OFFSET_MINUTES,
    DRILL,
    DRILL_CHECK_DELAY_MINUTES,
    DRILL_OFFSET_MINUTES,
    TRANSFER_MODE,
    CopyObjects,
    ProtectionUnit,
    VerificationJob,
)
from plan.zones import utc_offsets, utc_window

ABORT_MULTIPART_DAYS = 7
SNAPSHOT_LANE = "nas-snapshots"
TOOL_PREFIX = {"restic": "volsync", "kopia": "volsync", "pgbackrest": "pgbackrest", "cloudsync": "truenas",
               kopiur.KOPIUR: kopiur.REPOSITORY_PREFIX}


def lock_days_for(tier: TierSettings, offsite: bool, lock_supported: bool) -> int:
    """Object-lock period: the tier's, kept strictly below the shortest retention window.

    Tools expire data by deleting it; a lock that outlives retention would make prune fail.
    """
    if not (offsite and lock_supported and tier.lock_days):
        return 0
    window = math.floor(tier.offsite_retention.shortest_window_days())
    return max(0, min(tier.lock_days, window - 1))


def lifecycle_for(versioning: bool, lifecycle_supported: bool, lock_days: int) -> Lifecycle | None:
    """Never expire current objects; expire noncurrent versions no sooner than the lock releases them."""
    if not lifecycle_supported:
        return None
    noncurrent = max(1, lock_days + 1) if versioning else None
    return Lifecycle(noncurrent_days=noncurrent, abort_multipart_days=ABORT_MULTIPART_DAYS)


def pgbackrest_retention(retention: Retention, diff_every_hours: int = 24, lock_days: int = 0) -> tuple[int, int]:
    """Weekly fulls covering the tier's window (plus one so the oldest point stays restorable), and
    differentials covering a week and the lock period, so pgBackRest never expires a locked object."""
    fulls = math.ceil(retention.window_days() / 7) + 1
    diffs = math.ceil(max(7, lock_days + 1) * 24 / diff_every_hours)
    return max(2, fulls), diffs


_last: tuple[weakref.ref[Inventory], Plan] | None = None
"""The last inventory compiled and its plan. Validation compiles the plan to check the names it derives
(inventory/names.py), and the program compiles it again right after: both get the same plan. Safe because both
are immutable; held weakly, so no inventory outlives its users."""


def build_plan(inv: Inventory) -> Plan:
    """Compile the whole inventory. Pure and deterministic: same inventory, same plan."""
    global _last
    if _last is not None and _last[0]() is inv:
        return _last[1]
    plan = _compile(inv)
    _last = (weakref.ref(inv), plan)
    return plan


def _compile(inv: Inventory) -> Plan:
    # Every schedule is UTC; the window is local, narrowed so a start stays inside it in both DST seasons.
    window = utc_window(inv.schedule.maintenance_window.minutes(), inv.schedule.timezone)
    jobs: list[JobRequest] = []
    pending: list[tuple[Dataset, list[dict]]] = []

    for ds in inv.datasets:
        tier = inv.tier(ds.tier)
        rpo = min(tier.rpo_hours, ds.rpo_hours or tier.rpo_hours)
        dests = inv.destinations_of(ds)
        has_local = any(not d.offsite for d in dests) or isinstance(ds.source, TruenasSource)
        specs = []
        for dest in dests:
            interval = rpo if not dest.offsite or not has_local else max(rpo, tier.offsite_rpo_hours)
            every, weekly = cadence_for(interval)
            key = f"{ds.name}/{dest.name}"
            jobs.append(JobRequest(key, dest.name, every, weekly, window))
            specs.append({"dest": dest, "key": key})
        if isinstance(ds.source, PostgresSource):
            for dest in dests:
                jobs.append(JobRequest(f"{ds.name}/{dest.name}/full", dest.name, 24, True, window))
        if isinstance(ds.source, TruenasSource):
            for position, level in enumerate(tier.local_retention.levels()):
                every, weekly = (1, False) if level == "hourly" else (24, level == "weekly")
                if position == 0 and rpo < (24 * 7 if weekly else every):
                    every, weekly = cadence_for(rpo)  # the finest level carries the RPO
                jobs.append(JobRequest(f"{ds.name}/snapshot/{level}", SNAPSHOT_LANE, every, weekly, window))
        if isinstance(ds.source, ExportSource | NasConfigSource):
            every, weekly = cadence_for(rpo)  # the dump is the export's most frequent copy: it carries the RPO
            jobs.append(JobRequest(f"{ds.name}/export", f"export/{ds.source.target}", every, weekly, window))
        pending.append((ds, specs))

    times = assign(jobs)
    writers: dict[tuple[str, int], list[Writer]] = defaultdict(list)
    datasets: list[DatasetPlan] = []
    cost: dict[str, float] = {d.name: 0.0 for d in inv.destinations}

    for ds, specs in pending:
        tier = inv.tier(ds.tier)
        copies = []
        for spec in specs:
            copy = _copy_plan(inv, ds, tier, spec["dest"], times[spec["key"]], times.get(spec["key"] + "/full"))
            copies.append(copy)
            writers[(copy.destination, ds.tier)].append(
                Writer(writer_key(ds.name, copy.tool), ds.name, copy.tool, copy.repository))
            stored_gb = ds.size_gb * (1 + ds.daily_change * copy.retention.window_days())
            cost[copy.destination] += stored_gb / 1000 * spec["dest"].price_usd_per_tb_month
        datasets.append(_dataset_plan(inv, ds, tier, tuple(copies), times))

    datasets = _with_export_copies(datasets)
    for backing, tier_no, pbs_writer in pbs_writers(inv):
        writers[(backing, tier_no)].append(pbs_writer)
    buckets = [_bucket_plan(inv, dest_name, tier_no, tuple(ws)) for (dest_name, tier_no), ws in sorted(writers.items())]
    return Plan(
        datasets=tuple(datasets),
        buckets=tuple(b for b in buckets if b is not None),
        monthly_cost_usd={k: round(v, 2) for k, v in cost.items()},
        units=tuple(protection_unit(inv, ds, dp) for ds, dp in zip(inv.datasets, datasets, strict=True)),
        proxmox=guest_drills(inv, build_proxmox_plan(inv)),
    )


def _repository(ds: Dataset, tool: str) -> str:
    source = ds.source
    if isinstance(source, PvcSource):
        return f"{TOOL_PREFIX[tool]}/{source.namespace}/{source.claim}"
    if isinstance(source, PostgresSource):
        return f"{TOOL_PREFIX[tool]}/{source.namespace}/{source.cluster}"
    if isinstance(source, TruenasSource):
        return f"{TOOL_PREFIX[tool]}/{source.dataset}"
    if isinstance(source, HostSource):
        return f"hosts/{source.hostname}/{ds.name}"
    raise ValueError(f"{ds.name}: exports have no repository of their own")


def _tool(ds: Dataset) -> str:
    source = ds.source
    if isinstance(source, PvcSource):
        return source.mover
    if isinstance(source, PostgresSource):
        return "pgbackrest"
    if isinstance(source, HostSource):
        return "restic"
    return "cloudsync"


def _copy_plan(inv: Inventory, ds: Dataset, tier: TierSettings, dest, cron: Cron, full: Cron | None) -> CopyPlan:
    caps = capabilities_of(dest.kind, getattr(dest, "flavour", None))
    retention = tier.offsite_retention if dest.offsite else tier.local_retention
    if not retention.levels():
        retention = tier.local_retention  # tier 3 with a reasoned offsite override keeps the local policy
    replicated_from = kopiur.replica_source(ds, inv.destinations_of(ds))
    if replicated_from is not None and (dest.offsite or dest.name == replicated_from):
        # Every copy of a replicated dataset keeps what the NAS repository keeps: staggered at the same interval.
        retention = kopiur.replicated_retention(tier, cron.interval_hours if dest.name == replicated_from else
                                                kopiur.source_interval_hours(inv, ds, tier))
    tool = _tool(ds)
    pg = None
    if tool == "pgbackrest":
        lock = lock_days_for(tier, dest.offsite, caps.object_lock)
        fulls, diffs = pgbackrest_retention(retention, cron.interval_hours, lock)
        pg = PgBackRestSchedule(full=full or cron, diff=cron, retention_full=fulls, retention_diff=diffs)
    nfs = isinstance(dest, NfsDestination)
    mbps = restore_mbps(dest.kind, dest.offsite, dest.restore_mbps)
    return CopyPlan(
        dataset=ds.name,
        destination=dest.name,
        kind=dest.kind,
        offsite=dest.offsite,
        media=dest.media,
        tool=tool,
        bucket=dest.bucket_for(ds.tier),
        endpoint=f"nfs://{dest.server}{dest.path}" if nfs else dest.endpoint,
        region="" if nfs else dest.region,
        repository=_repository(ds, tool),
        schedule=cron,
        retention=retention,
        lock_days=lock_days_for(tier, dest.offsite, caps.object_lock),
        checksum_env=caps.checksum_env,
        healthcheck_slug=backup_slug(ds.name, dest.name),
        pgbackrest=pg,
        private_ca=bool(getattr(dest, "ca_file", None)),
        restore_mbps=mbps,
        restore_hours=restore_hours(ds.size_gb, mbps, tool),
        replica_of=replicated_from if replicated_from is not None and dest.offsite else None,
    )


SNAPSHOT_UNITS = {"hourly": "HOUR", "daily": "DAY", "weekly": "WEEK", "monthly": "MONTH", "yearly": "YEAR"}
"""TrueNAS lifetime unit of each GFS level's snapshot task."""


def _dataset_plan(
    inv: Inventory, ds: Dataset, tier: TierSettings, copies: tuple[CopyPlan, ...], times: dict[str, Cron]
) -> DatasetPlan:
    source = ds.source
    snapshots: tuple[SnapshotLevel, ...] = ()
    export = None
    if isinstance(source, TruenasSource):
        levels = []
        for level, count in tier.local_retention.levels().items():
            cron = times[f"{ds.name}/snapshot/{level}"]
            schedule = cron.shifted(nas_utc_offset(inv)).truenas()
            if level == "monthly":
                schedule = {**schedule, "dom": "1"}
            elif level == "yearly":
                schedule = {**schedule, "dom": "1", "month": "1"}
            unit = SNAPSHOT_UNITS[level]
            interval = {"monthly": 24 * 31, "yearly": 24 * 366}.get(level, cron.interval_hours)
            levels.append(SnapshotLevel(level, count, unit, schedule, f"hlb-{level}-%Y-%m-%d_%H-%M", interval))
        snapshots = tuple(levels)
    if isinstance(source, ExportSource):
        target = next(d for d in inv.datasets if d.name == source.target)
        assert isinstance(target.source, TruenasSource)
        export = ExportPlan(source.engine, times[f"{ds.name}/export"], target.name,
                            f"/mnt/{target.source.dataset}/{ds.name}", source.keep)
    if isinstance(source, NasConfigSource):
        export = nas_config_export(inv, ds, times[f"{ds.name}/export"])
    primary = "nas-disk" if isinstance(source, TruenasSource | NasConfigSource) else "cluster-disk"
    primary = "host-disk" if isinstance(source, HostSource) else primary
    intervals = [c.schedule.interval_hours for c in copies] + [s.interval_hours for s in snapshots]
    if export is not None:
        intervals.append(export.schedule.interval_hours)
    rpo = min(intervals, default=tier.rpo_hours)
    if isinstance(source, PostgresSource) and copies:
        rpo = 1  # WAL is archived continuously to every repository; base backups bound replay time only
    return DatasetPlan(
        name=ds.name,
        tier=ds.tier,
        source_kind=source.kind,
        rpo_hours=rpo,
        copies=copies,
        snapshots=snapshots,
        export=export,
        verify_every_days=tier.verify_every_days,
        drill_every_days=tier.drill_every_days,
        alerts=tier.alerts,
        media=tuple(sorted({primary} | {c.media for c in copies})),
        nas_utc_offset_minutes=nas_utc_offset(inv) if isinstance(source, TruenasSource | NasConfigSource) else 0,
        size_gb=ds.size_gb,
    )


def nas_utc_offset(inv: Inventory) -> int:
    """Minutes the NAS's clock is ahead of UTC in its standard time: TrueNAS reads task times in its own zone.

    Standard time, because the UTC window was narrowed at its end by the DST shift: when the NAS shares the
    schedule's zone, its tasks then land inside the window in both seasons.
    """
    zone = (inv.truenas.timezone if inv.truenas else None) or inv.schedule.timezone
    return utc_offsets(zone)[0]


def _with_export_copies(datasets: list[DatasetPlan]) -> list[DatasetPlan]:
    """An export's copies: the dump on the NAS, then every copy its target dataset makes of that folder."""
    by_name = {d.name: d for d in datasets}
    result = []
    for plan in datasets:
        if plan.export is None:
            result.append(plan)
            continue
        export = plan.export
        target = by_name[export.target_dataset]
        dump = CopyPlan(
            dataset=plan.name, destination=target.name, kind="truenas-dataset", offsite=False, media="nas-disk",
            tool=export.engine, bucket="", endpoint="", region="", repository=export.target_path,
            schedule=export.schedule, retention=Retention(daily=export.keep), lock_days=0, checksum_env=False,
            healthcheck_slug=backup_slug(plan.name, "export"),
            restore_mbps=restore_mbps("truenas-dataset", False),
            restore_hours=restore_hours(plan.size_gb, restore_mbps("truenas-dataset", False), export.engine),
        )
        # Carried copies hold only this export's folder: their estimate is for its size, not the target's.
        carried = tuple(replace(c, dataset=plan.name, repository=f"{c.repository}/{plan.name}",
                                healthcheck_slug=c.healthcheck_slug,
                                restore_hours=restore_hours(plan.size_gb, c.restore_mbps, c.tool))
                        for c in target.copies)
        copies = (dump, *carried)
        result.append(replace(
            plan, copies=copies,
            rpo_hours=min(c.schedule.interval_hours for c in copies),
            media=tuple(sorted({"nas-disk" if plan.source_kind == "nas-config" else "cluster-disk"}
                               | {c.media for c in copies})),
        ))
    return result


def _bucket_plan(inv: Inventory, dest_name: str, tier_no: int, writers: tuple[Writer, ...]) -> BucketPlan | None:
    dest = inv.destination(dest_name)
    if isinstance(dest, NfsDestination):
        return None
    flavour = getattr(dest, "flavour", None)
    caps = capabilities_of(dest.kind, flavour)
    tier = inv.tier(tier_no)
    lock = lock_days_for(tier, dest.offsite, caps.object_lock)
    return BucketPlan(
        destination=dest.name,
        kind=dest.kind,
        flavour=flavour,
        tier=tier_no,
        name=dest.bucket_for(tier_no),
        endpoint=dest.endpoint,
        region=dest.region,
        offsite=dest.offsite,
        versioning=caps.versioning,
        lifecycle=lifecycle_for(caps.versioning, caps.lifecycle, lock),
        lock_days=lock,
        writers=writers,
        price_usd_per_tb_month=dest.price_usd_per_tb_month,
        admin_api=getattr(dest, "identity_api", "none"),
        admin_endpoint=getattr(dest, "identity_endpoint", None),
    )


def _copy_objects(ds: Dataset, copy: CopyPlan, index: int) -> CopyObjects:
    """Names and keys of what protects one copy."""
    source = ds.source
    in_bucket = copy.kind not in ("nfs", "truenas-dataset")
    common = {
        "destination": copy.destination,
        "labels": labels(ds.name, ds.tier, copy.destination),
        "backup_slug": copy.healthcheck_slug,
        "bucket_key": bucket_key(copy.destination, ds.tier) if in_bucket else None,
        "writer_key": writer_key(ds.name, copy.tool)
        if in_bucket and not isinstance(source, ExportSource | NasConfigSource) else None,
        "ca_config_map": ca_config_map(copy.destination) if copy.private_ca else None,
    }
    if isinstance(source, PvcSource) and copy.tool == kopiur.KOPIUR:
        return CopyObjects(
            **common,
            source_object=object_name(ds.name, copy.destination),
            repository_secret=object_name(ds.name, copy.destination, "repo"),
            reader_secret=object_name(ds.name, copy.destination, "repo-ro") if in_bucket else None,
            restore_object=object_name(ds.name, copy.destination, "restore"),
            maintenance=kopiur.full_maintenance(copy),
            maintenance_object=object_name(ds.name, copy.destination, "maintenance")
            if kopiur.full_maintenance(copy) else None,
        )
    if isinstance(source, PvcSource):
        return CopyObjects(
            **common,
            source_object=object_name(ds.name, copy.destination),
            repository_secret=object_name(ds.name, copy.destination, "repo"),
            reader_secret=object_name(ds.name, copy.destination, "repo-ro") if in_bucket else None,
            restore_object=object_name(ds.name, copy.destination, "restore"),
            maintenance=Cron(after_backups(copy.schedule, 0), 24) if copy.tool == "kopia" else None,
            maintenance_object=object_name(ds.name, copy.destination, "maintenance") if copy.tool == "kopia"
            else None,
            repository=volsync_repository(copy),
        )
    if isinstance(source, PostgresSource):
        secret = object_name(ds.name, copy.destination, "pgbackrest")
        return CopyObjects(**common, repository_secret=secret,
                           reader_secret=object_name(ds.name, copy.destination, "pgbackrest-ro"),
                           pgbackrest=pgbackrest_repository(copy, index, secret),
                           scheduled_backups=(object_name(ds.name, copy.destination, "full"),
                                              object_name(ds.name, copy.destination, "diff")))
    if isinstance(source, TruenasSource):
        return CopyObjects(**common, nas_credential=f"hlb-{ds.name}-{copy.destination}",
                           nas_task=f"homelab-backups {ds.name}-{copy.destination}")
    return CopyObjects(**common)


def _job(ds: Dataset, role: str, copy: CopyPlan, index: int, days: int, name: str, job_labels: dict[str, str],
         secret: str | None = None) -> VerificationJob:
    offset = CHECK_OFFSET_MINUTES if role == CHECK else DRILL_OFFSET_MINUTES
    return VerificationJob(
        role=role, destination=copy.destination, repo_index=index, name=name,
        schedule=every_days(after_backups(copy.schedule, offset), days, f"{ds.name}/{copy.destination}/{role}"),
        slug=f"{copy.healthcheck_slug}-{role}", labels=job_labels, secret=secret)


def _verification_labels(ds: Dataset, role: str, destination: str | None) -> dict[str, str]:
    return {**labels(ds.name, ds.tier, destination), LABEL_VERIFICATION: role}


def _checks(ds: Dataset, dp: DatasetPlan, objects: tuple[CopyObjects, ...]) -> tuple[VerificationJob, ...]:
    """One integrity check per copy of a PVC or PostgreSQL dataset. The Secret: kopia on object storage and
    pgBackRest read with the copy's read-only key; restic must write its exclusive lock into the repository (a
    check racing a prune otherwise reports damage), and an NFS repository has no key at all."""
    if dp.verify_every_days < 1 or not isinstance(ds.source, PvcSource | PostgresSource):
        return ()
    checks = []
    for index, (copy, names) in enumerate(zip(dp.copies, objects, strict=True), start=1):
        if copy.replica_of is not None:
            continue  # no check reads a replica yet: its blobs are copied verbatim from the NAS repository
        reads_only = copy.tool in ("kopia", "pgbackrest") and names.reader_secret is not None
        checks.append(_job(
            ds, CHECK, copy, index, dp.verify_every_days,
            object_name(ds.name, copy.destination, CHECK, limit=CRONJOB_NAME_LIMIT),
            _verification_labels(ds, CHECK, copy.destination),
            names.reader_secret if reads_only else names.repository_secret))
    return tuple(checks)


def _drill(ds: Dataset, dp: DatasetPlan, objects: tuple[CopyObjects, ...]) -> VerificationJob | None:
    """The one restore drill of a unit (see `ProtectionUnit.drill` for which copy)."""
    days, source = dp.drill_every_days, ds.source
    if days < 1 or not dp.copies or isinstance(source, NasConfigSource):
        return None  # a NAS configuration is drilled through its target dataset's copies
    if isinstance(source, PvcSource):
        copy = dp.copies[0]
        scratch = object_name(ds.name, copy.destination, DRILL)
        job = _job(ds, DRILL, copy, 1, days, object_name(ds.name, copy.destination, DRILL, limit=CRONJOB_NAME_LIMIT),
                   labels(ds.name, ds.tier, copy.destination))
        return replace(job, schedule=job.schedule.shifted(DRILL_CHECK_DELAY_MINUTES), restore_at=job.schedule,
                       scratch=scratch)
    if isinstance(source, PostgresSource):
        copy = dp.copies[0]
        return _job(ds, DRILL, copy, 1, days, object_name(ds.name, DRILL, limit=CRONJOB_NAME_LIMIT),
                    _verification_labels(ds, DRILL, copy.destination), objects[0].reader_secret)
    if isinstance(source, ExportSource):
        # No destination label: the pack reads a CronJob whose destination is another dataset as its export job.
        copy = dp.copies[0]
        return _job(ds, DRILL, copy, 1, days, object_name(ds.name, DRILL, limit=CRONJOB_NAME_LIMIT),
                    _verification_labels(ds, DRILL, None))
    index, copy = next(((i, c) for i, c in enumerate(dp.copies, start=1) if c.offsite), (0, None))
    if copy is None:
        return None
    return _job(ds, DRILL, copy, index, days,
                object_name(ds.name, copy.destination, DRILL, limit=CRONJOB_NAME_LIMIT),
                _verification_labels(ds, DRILL, copy.destination), object_name(ds.name, copy.destination, DRILL))


def protection_unit(inv: Inventory, ds: Dataset, dp: DatasetPlan) -> ProtectionUnit:
    """The protection unit of one dataset: its plan plus every name, label, slug, key and job time.

    `build_plan` calls it once per dataset; tests call it on a changed `DatasetPlan` to see what follows from it."""
    source = ds.source
    objects = tuple(_copy_objects(ds, c, i) for i, c in enumerate(dp.copies, start=1))
    namespace = (inv.monitoring.namespace if isinstance(source, TruenasSource | NasConfigSource)
                 else getattr(source, "namespace", None))
    return ProtectionUnit(
        dataset=ds.name,
        tier=ds.tier,
        kind=source.kind,
        tool=source.engine if isinstance(source, ExportSource) else NAS_CONFIG_TOOL
        if isinstance(source, NasConfigSource) else _tool(ds),
        source=source,
        plan=dp,
        namespace=namespace,
        labels=labels(ds.name, ds.tier),
        objects=objects,
        checks=_checks(ds, dp, objects),
        drill=_drill(ds, dp, objects),
        ping_secret=object_name(ds.name, "healthchecks"),
        export_job=object_name(ds.name, "export", limit=CRONJOB_NAME_LIMIT) if isinstance(source, ExportSource)
        else None,
        transfer_mode=TRANSFER_MODE[ds.tier] if isinstance(source, TruenasSource) else None,
        stanza=object_name(ds.name) if isinstance(source, PostgresSource) else None,
        offsite_override_reason=ds.offsite_override_reason,
        credentials={o.destination: (o.bucket_key, o.writer_key) for o in objects
                     if o.bucket_key is not None and o.writer_key is not None},
    )
