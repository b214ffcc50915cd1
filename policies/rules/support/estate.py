"""One pass over a stack's resources: datasets, the buckets and copies that protect them, schedules, checks, alerts.

Stack rules see resource *outputs*. A dataset is a `ProtectedDataset` component; everything below it in the parent
chain protects it. Its facts come from the component (tier, source, size, override reason) and, where the engine
keeps no component outputs, from the `backup.homelab/*` labels of what protects it. Buckets are found by their
labels (tier, destination, offsite, lock-days, price), with the settings split over companion resources (AWS,
R2) gathered under the bucket's component. Everything is indexed once, so every rule is linear in the stack size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import DEFAULTS, LEVEL_DAYS, LEVELS
from . import hosts, kinds
from .cron import CronError, Schedule, parse_cron, parse_truenas
from .memo import memoized
from .policy import StackResource
from .props import (
    LABEL_DATASET,
    LABEL_DESTINATION,
    LABEL_OFFSITE,
    LABEL_PRICE,
    LABEL_TIER,
    LABEL_VERIFICATION,
    get,
    is_unknown,
    labels_of,
    number,
    truthy,
)

PRIMARY_MEDIUM = {"pvc": "cluster-disk", "postgres": "cluster-disk", "export": "cluster-disk", "truenas": "nas-disk",
                  "nas-config": "nas-disk", "host": "host-disk"}
_UNIT_DAYS = {"HOUR": 1 / 24, "DAY": 1.0, "WEEK": 7.0, "MONTH": 30.0, "YEAR": 365.0}


@dataclass(frozen=True)
class Timed:
    """A schedule as declared, parsed (or the reason it could not be), and where it was declared."""

    text: str
    schedule: Schedule | None
    error: str | None
    urn: str
    what: str

    @property
    def gap_hours(self) -> float | None:
        """Longest gap between starts; None when unreadable or never."""
        return self.schedule.max_gap_hours() if self.schedule is not None else None


def timed_cron(value: Any, urn: str, what: str, seconds: bool = False) -> Timed | None:
    """Parse a cron string; None when absent or unknown (nothing to judge)."""
    if not isinstance(value, str) or is_unknown(value):
        return None
    try:
        return Timed(value, parse_cron(value, seconds), None, urn, what)
    except CronError as exc:
        return Timed(value, None, str(exc), urn, what)


def timed_truenas(value: Any, urn: str, what: str) -> Timed | None:
    """Parse a TrueNAS schedule object; None when absent or unknown."""
    if not isinstance(value, Mapping):
        return None
    if any(is_unknown(v) for v in value.values()):
        return None
    try:
        schedule = parse_truenas(value)
        return Timed(schedule.text, schedule, None, urn, what)
    except CronError as exc:
        return Timed(str(dict(value)), None, str(exc), urn, what)


@dataclass(frozen=True)
class Keep:
    """One retention level a tool applies: points at `level` granularity reaching `window_days` back."""

    level: str
    window_days: float
    every_point: bool = True
    """Keeps every point the schedule makes (a level no coarser than the schedule, or last/latest/within)."""


def release_days(keeps: Sequence[Keep]) -> float:
    """Age at which the tool first lets a point go: the longest window among levels keeping every point.

    A point no such level keeps is released at the next forget (age ~0), e.g. hourly backups with daily levels only.
    """
    return max((k.window_days for k in keeps if k.every_point), default=0.0)


@dataclass
class Bucket:
    """A backup bucket with the settings of its companion resources folded in."""

    urn: str
    kind: str
    name: Any
    group: str | None
    labels: dict[str, Any]
    lock_days: float | None = None
    lock_supported: bool = True
    lifecycle: list[kinds.LifecycleRule] | None = None
    lifecycle_urn: str | None = None
    lifecycle_supported: bool = True

    @property
    def tier(self) -> int | None:
        """The tier label, as a number."""
        value = number(self.labels.get(LABEL_TIER))
        return int(value) if value is not None else None

    @property
    def destination(self) -> str | None:
        """The destination label (the inventory's destination name)."""
        value = self.labels.get(LABEL_DESTINATION)
        return value if isinstance(value, str) else None

    @property
    def offsite(self) -> bool | None:
        """The offsite label; None when absent or unreadable."""
        return truthy(self.labels.get(LABEL_OFFSITE))

    @property
    def price(self) -> float | None:
        """The price label, USD per TB-month."""
        return number(self.labels.get(LABEL_PRICE))

    @property
    def label(self) -> str:
        """`bucket <name>` for messages."""
        name = self.name if isinstance(self.name, str) else self.urn.rsplit("::", 1)[-1]
        return f"bucket {name}"


@dataclass
class Copy:
    """One copy of a dataset at one destination, beside the primary."""

    destination: str
    medium: str
    offsite: bool | None
    """None: object storage whose bucket carries no offsite label."""
    tool: str
    urn: str
    bucket: Bucket | None = None
    schedules: list[Timed] = field(default_factory=list)
    keeps: list[Keep] | None = None
    """What the tool retains; None when the tool keeps no history of its own (mirrors, dumps)."""
    carried: bool = False
    """Made by the export's target dataset, which carries this export's folder."""
    full_interval_days: float | None = None
    release_days: float | None = None
    """Age at which the tool first deletes data it wrote (prune/expire); None when it never deletes by itself."""


@dataclass
class Dataset:
    """A ProtectedDataset and everything found protecting it."""

    name: str
    urn: str
    tier: int | None
    declared_tier: Any
    source: str | None
    size_gb: float | None
    override_reason: str | None
    copies: list[Copy] = field(default_factory=list)
    points: list[Timed] = field(default_factory=list)
    """Schedules that create recovery points (backups, snapshots, dumps)."""
    local_keeps: list[tuple[Keep, str]] = field(default_factory=list)
    """Retention of local snapshots (TrueNAS), with the task's URN."""
    drills: list[Timed] = field(default_factory=list)
    checks: list[Timed] = field(default_factory=list)
    alerts: set[str] = field(default_factory=set)
    export_target: str | None = None
    label_tiers: dict[int, str] = field(default_factory=dict)
    """Tier labels found below the dataset -> one URN carrying each."""
    restore_mbps: dict[str, float] = field(default_factory=dict)
    """Restore bandwidth per destination, as the component declares it (absent: the pack's defaults)."""

    @property
    def label(self) -> str:
        """`dataset <name> (tier N)` for messages."""
        return f"dataset {self.name} (tier {self.tier})" if self.tier is not None else f"dataset {self.name}"

    @property
    def primary_medium(self) -> str:
        """Where the live data sits: cluster disk, or NAS disk for TrueNAS datasets."""
        return PRIMARY_MEDIUM.get(self.source or "", "cluster-disk")

    def media(self) -> set[str]:
        """Distinct media holding the data, primary included."""
        return {self.primary_medium} | {c.medium for c in self.copies}


@dataclass(frozen=True)
class Job:
    """A recurring start on a destination lane, for staggering."""

    lane: str
    timed: Timed
    dataset: str | None


class Estate:
    """The index every stack rule reads."""

    def __init__(self, resources: Sequence[StackResource], healthchecks_markers: Iterable[str] = (),
                 healthchecks_covers: Iterable[str] = ()) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._owner: dict[str, str | None] = {}
        self.datasets: dict[str, Dataset] = {}
        self._by_urn_dataset: dict[str, Dataset] = {}
        self.buckets: list[Bucket] = []
        self.jobs: list[Job] = []
        self.kopia_maintenance: list[tuple[StackResource, Dataset | None]] = []
        self._markers = tuple(healthchecks_markers)
        self._covers = set(healthchecks_covers)
        self._collect_datasets()
        self._collect_buckets()
        self._bucket_by_name = {b.name: b for b in self.buckets if isinstance(b.name, str)}
        self._bucket_by_slot: dict[tuple[str, int], Bucket] = {}
        for bucket in self.buckets:
            if bucket.destination is not None and bucket.tier is not None:
                self._bucket_by_slot.setdefault((bucket.destination, bucket.tier), bucket)
        self._resolve_tiers()
        self._collect_protection()
        self._carry_exports()

    @classmethod
    def build(cls, resources: Sequence[StackResource], settings: Mapping[str, Any]) -> Estate:
        """Index `resources`, reading the Healthchecks settings from `settings` (or their defaults).

        Within an analysis request every stack rule gets the same list, so the index is built once and shared.
        """
        markers = tuple(settings.get("healthchecksMarkers", DEFAULTS["healthchecksMarkers"]))
        covers = tuple(settings.get("healthchecksCovers", DEFAULTS["healthchecksCovers"]))
        return memoized("estate", resources, lambda: cls(resources, markers, covers), markers, covers)

    # --- ownership -----------------------------------------------------------------------------------------------

    def owner(self, urn: str) -> Dataset | None:
        """The dataset a resource protects: its nearest ProtectedDataset ancestor (memoized, iterative)."""
        chain = []
        current: str | None = urn
        found: str | None = None
        while current is not None:
            if current in self._owner:
                found = self._owner[current]
                break
            resource = self.by_urn.get(current)
            if resource is None:
                break
            if resource.type == kinds.DATASET and current != urn:
                found = current
                break
            chain.append(current)
            current = resource.parent
        for link in chain:
            self._owner[link] = found
        return self._by_urn_dataset.get(found) if found else None

    def dataset_of(self, resource: StackResource) -> Dataset | None:
        """The owning dataset, else the dataset its backup.homelab/dataset label names."""
        owned = self.owner(resource.urn)
        if owned is not None:
            return owned
        name = labels_of(resource.props).get(LABEL_DATASET)
        return self.datasets.get(name) if isinstance(name, str) else None

    # --- datasets ------------------------------------------------------------------------------------------------

    def _collect_datasets(self) -> None:
        for r in self.resources:
            if r.type != kinds.DATASET:
                continue
            props = r.props if isinstance(r.props, Mapping) else {}
            name = props.get("dataset")
            if not isinstance(name, str) or not name:
                name = r.name
            declared = props.get("tier")
            tier = number(declared)
            reason = props.get("offsite_override_reason")
            source = props.get("source")
            dataset = Dataset(
                name=name, urn=r.urn, tier=int(tier) if tier is not None else None, declared_tier=declared,
                source=source if isinstance(source, str) else None, size_gb=number(props.get("size_gb")),
                override_reason=reason if isinstance(reason, str) and reason.strip() else None)
            declared_mbps = props.get("restore_mbps")
            if isinstance(declared_mbps, Mapping):
                readable = {str(k): number(v) for k, v in declared_mbps.items()}
                dataset.restore_mbps = {k: v for k, v in readable.items() if v is not None and v > 0}
            self.datasets[name] = dataset
            self._by_urn_dataset[r.urn] = dataset

    def _resolve_tiers(self) -> None:
        """Record the tier labels below each dataset; a dataset with no readable tier of its own takes theirs."""
        for r in self.resources:
            if r.type == kinds.DATASET:
                continue
            dataset = self.owner(r.urn)
            tier = number(labels_of(r.props).get(LABEL_TIER)) if dataset is not None else None
            if dataset is not None and tier is not None:
                dataset.label_tiers.setdefault(int(tier), r.urn)
        for dataset in self.datasets.values():
            if dataset.tier is None and len(dataset.label_tiers) == 1:
                dataset.tier = next(iter(dataset.label_tiers))

    # --- buckets -------------------------------------------------------------------------------------------------

    def _collect_buckets(self) -> None:
        by_group: dict[str | None, list[Bucket]] = defaultdict(list)
        for r in self.resources:
            kind = kinds.BUCKETS.get(r.type)
            if kind is None:
                continue
            labels = kinds.bucket_labels(r.type, r.props)
            parent = self.by_urn.get(r.parent or "")
            if parent is not None and isinstance(parent.props.get("labels"), Mapping):
                labels = {**kinds.bucket_labels("component", parent.props), **labels}
            bucket = Bucket(r.urn, kind, kinds.bucket_name(r.type, r.props), r.parent, labels)
            if kind in ("b2", "s3-compatible"):
                bucket.lock_days = kinds.lock_days(r.type, r.props)
                bucket.lifecycle = kinds.lifecycle_rules(r.type, r.props)
                bucket.lifecycle_urn = r.urn if bucket.lifecycle is not None else None
                capabilities = r.props.get("capabilities")
                if isinstance(capabilities, Mapping):
                    bucket.lifecycle_supported = truthy(capabilities.get("lifecycle")) is not False
                    bucket.lock_supported = truthy(capabilities.get("object_lock")) is not False
            else:
                bucket.lock_days = 0.0
                bucket.lock_supported = kind not in kinds.UNLOCKABLE_KINDS
            self.buckets.append(bucket)
            by_group[r.parent].append(bucket)
        by_name = {b.name: b for b in self.buckets if isinstance(b.name, str)}
        for r in self.resources:
            is_lifecycle = r.type in kinds.AWS_LIFECYCLE or r.type == kinds.R2_LIFECYCLE
            is_lock = r.type in kinds.AWS_LOCK or r.type == kinds.R2_LOCK
            if not (is_lifecycle or is_lock):
                continue
            is_r2 = r.type in (kinds.R2_LIFECYCLE, kinds.R2_LOCK)
            named = r.props.get("bucketName") if is_r2 else r.props.get("bucket")
            target = by_name.get(named) if isinstance(named, str) else None
            if target is None and len(by_group.get(r.parent, [])) == 1:
                target = by_group[r.parent][0]
            if target is None:
                continue
            bucket = target
            if is_lifecycle:
                bucket.lifecycle = (bucket.lifecycle or []) + (kinds.lifecycle_rules(r.type, r.props) or [])
                bucket.lifecycle_urn = r.urn
            else:
                bucket.lock_days = max(bucket.lock_days or 0.0, kinds.lock_days(r.type, r.props) or 0.0)

    def bucket_named(self, name: Any) -> Bucket | None:
        """The bucket with this global name (pgBackRest repositories and cloud sync tasks name theirs)."""
        return self._bucket_by_name.get(name) if isinstance(name, str) else None

    def bucket_for(self, destination: str | None, tier: int | None) -> Bucket | None:
        """The bucket labelled with this destination and tier (VolSync repositories name only the destination)."""
        if destination is None or tier is None:
            return None
        return self._bucket_by_slot.get((destination, tier))

    # --- protection ----------------------------------------------------------------------------------------------

    def _collect_protection(self) -> None:
        stanzas: list[tuple[StackResource, Dataset]] = []
        backups: dict[str, list[StackResource]] = defaultdict(list)
        kopiur: dict[str, list[StackResource]] = defaultdict(list)
        for r in self.resources:
            if r.type in (kinds.DATASET, *kinds.BUCKETS):
                continue
            labels = labels_of(r.props)
            dataset = self.dataset_of(r)
            if r.type == kinds.PROMETHEUS_RULE:
                self._alert_rules(r)
                continue
            if r.type in (kinds.KOPIA_MAINTENANCE, kinds.KOPIUR_MAINTENANCE):
                self.kopia_maintenance.append((r, dataset))
                continue
            if dataset is None:
                continue
            if r.type == kinds.REPLICATION_SOURCE:
                self._replication_source(r, dataset, labels)
            elif r.type in kinds.KOPIUR_KINDS:
                kopiur[dataset.name].append(r)
            elif r.type == kinds.STANZA:
                stanzas.append((r, dataset))
            elif r.type == kinds.SCHEDULED_BACKUP:
                backups[dataset.name].append(r)
            elif r.type == kinds.SNAPSHOT_TASK:
                self._snapshot_task(r, dataset)
            elif r.type == kinds.CLOUD_SYNC_TASK:
                self._cloud_sync(r, dataset)
            elif r.type == hosts.HOST_BACKUP:
                hosts.collect(self, r, dataset)
            elif r.type == kinds.CRONJOB and labels.get(LABEL_DESTINATION) in self.datasets \
                    and labels.get(LABEL_DESTINATION) != dataset.name:
                self._export(r, dataset, labels)
            elif r.type == kinds.NAS_CRON_JOB and r.props.get("target_dataset") in self.datasets:
                self._nas_export(r, dataset)
            self._verification(r, dataset, labels)
        for stanza, dataset in stanzas:
            self._stanza(stanza, dataset, backups.get(dataset.name, []))
        for name, objects in kopiur.items():
            self._kopiur(self.datasets[name], objects)

    def _add_copy(self, dataset: Dataset, copy: Copy) -> Copy:
        for existing in dataset.copies:
            if existing.destination == copy.destination and not existing.carried:
                existing.schedules.extend(copy.schedules)
                if copy.keeps:
                    existing.keeps = (existing.keeps or []) + copy.keeps
                return existing
        dataset.copies.append(copy)
        return copy

    def _object_copy(self, dataset: Dataset, destination: str, bucket: Bucket | None, tool: str, urn: str) -> Copy:
        offsite = bucket.offsite if bucket is not None else None
        return Copy(destination, "object-storage", offsite, tool, urn, bucket)

    def _replication_source(self, r: StackResource, dataset: Dataset, labels: Mapping[str, Any]) -> None:
        found = kinds.mover(r.props)
        destination = labels.get(LABEL_DESTINATION)
        if not isinstance(destination, str):
            destination = r.name
        timed = timed_cron(get(r.props, "spec", "trigger", "schedule"), r.urn, f"ReplicationSource {r.name}")
        tool = found[0] if found else "volsync"
        mover_spec = found[1] if found else {}
        volumes = mover_spec.get("moverVolumes") or []
        nfs = any(isinstance(v, Mapping) and isinstance(get(v, "volumeSource", "nfs"), Mapping) for v in volumes)
        if nfs:
            copy = Copy(destination, "nas-disk", False, tool, r.urn)
        else:
            copy = self._object_copy(dataset, destination, self.bucket_for(destination, dataset.tier), tool, r.urn)
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            self.jobs.append(Job(destination, timed, dataset.name))
        copy.keeps = _volsync_keeps(mover_spec.get("retain"), timed)
        copy.release_days = release_days(copy.keeps) if copy.keeps is not None else None
        self._add_copy(dataset, copy)

    def _kopiur(self, dataset: Dataset, objects: list[StackResource]) -> None:
        """Kopiur copies: a SnapshotPolicy (retention) run by the SnapshotSchedule naming it into a Repository, or a
        RepositoryReplication copying a repository to another backend (a replica keeps what its source keeps)."""
        by_kind: dict[str, dict[Any, StackResource]] = defaultdict(dict)
        for r in objects:
            by_kind[r.type][get(r.props, "metadata", "name", default=r.name)] = r
        repositories, schedules = by_kind[kinds.KOPIUR_REPOSITORY], by_kind[kinds.KOPIUR_SCHEDULE]
        scheduled = {get(s.props, "spec", "policyRef", "name"): s for s in schedules.values()}
        keeps_of_repository: dict[Any, list[Keep] | None] = {}
        for name, policy in by_kind[kinds.KOPIUR_POLICY].items():
            repository = repositories.get(get(policy.props, "spec", "repository", "name"))
            schedule = scheduled.get(name)
            timed = timed_cron(get(schedule.props, "spec", "schedule", "cron"), schedule.urn,
                               f"SnapshotSchedule {schedule.name}") if schedule is not None else None
            copy = self._kopiur_copy(dataset, policy, get(repository.props, "spec", "backend")
                                     if repository is not None else None, timed)
            copy.keeps = _kopiur_keeps(get(policy.props, "spec", "retention"), timed)
            copy.release_days = release_days(copy.keeps) if copy.keeps is not None else None
            keeps_of_repository[get(policy.props, "spec", "repository", "name")] = copy.keeps
            self._add_copy(dataset, copy)
            quick = timed_cron(get(policy.props, "spec", "verification", "quick", "schedule", "cron"), policy.urn,
                               f"SnapshotPolicy {policy.name} quick verification")
            if quick is not None:
                dataset.checks.append(quick)
        for replication in by_kind[kinds.KOPIUR_REPLICATION].values():
            timed = timed_cron(get(replication.props, "spec", "schedule", "cron"), replication.urn,
                               f"RepositoryReplication {replication.name}")
            copy = self._kopiur_copy(dataset, replication, get(replication.props, "spec", "destination"), timed)
            keeps = keeps_of_repository.get(get(replication.props, "spec", "sourceRef", "name"))
            copy.keeps = list(keeps) if keeps is not None else None
            copy.release_days = release_days(copy.keeps) if copy.keeps is not None else None
            self._add_copy(dataset, copy)

    def _kopiur_copy(self, dataset: Dataset, r: StackResource, backend: Any, timed: Timed | None) -> Copy:
        destination = labels_of(r.props).get(LABEL_DESTINATION)
        destination = destination if isinstance(destination, str) else r.name
        if isinstance(backend, Mapping) and "filesystem" in backend:
            copy = Copy(destination, "nas-disk", False, "kopiur", r.urn)
        else:
            copy = self._object_copy(dataset, destination, self.bucket_for(destination, dataset.tier), "kopiur",
                                     r.urn)
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            self.jobs.append(Job(destination, timed, dataset.name))
        return copy

    def _stanza(self, r: StackResource, dataset: Dataset, backups: list[StackResource]) -> None:
        repositories = get(r.props, "spec", "stanzaConfiguration", "s3Repositories", default=[])
        by_repo: dict[int, list[tuple[StackResource, Timed | None, str]]] = defaultdict(list)
        for backup in backups:
            params = get(backup.props, "spec", "pluginConfiguration", "parameters", default={})
            repo = number(params.get("selectedRepository")) if isinstance(params, Mapping) else None
            kind = params.get("backupType") if isinstance(params, Mapping) else None
            timed = timed_cron(get(backup.props, "spec", "schedule"), backup.urn, f"ScheduledBackup {backup.name}",
                               seconds=True)
            by_repo[int(repo) if repo is not None else 1].append((backup, timed, kind if isinstance(kind, str) else ""))
        for index, repo in enumerate(repositories if isinstance(repositories, list) else [], start=1):
            if not isinstance(repo, Mapping):
                continue
            bucket = self.bucket_named(repo.get("bucket"))
            scheduled = by_repo.get(index, [])
            destination = next((labels_of(b.props).get(LABEL_DESTINATION) for b, _, _ in scheduled
                                if isinstance(labels_of(b.props).get(LABEL_DESTINATION), str)), None)
            destination = destination or (bucket.destination if bucket else None) or f"repo{index}"
            copy = self._object_copy(dataset, destination, bucket, "pgbackrest", r.urn)
            fulls = [t.gap_hours for _, t, k in scheduled if t is not None and k == "full" and t.gap_hours]
            diffs = [t.gap_hours for _, t, k in scheduled if t is not None and k != "full" and t.gap_hours]
            copy.full_interval_days = (max(fulls) / 24) if fulls else None
            for _, timed, _ in scheduled:
                if timed is not None:
                    copy.schedules.append(timed)
                    dataset.points.append(timed)
                    self.jobs.append(Job(destination, timed, dataset.name))
            copy.keeps = _pgbackrest_keeps(repo.get("retentionPolicy"), copy.full_interval_days)
            copy.release_days = _pgbackrest_release(repo.get("retentionPolicy"), copy.keeps,
                                                    min(diffs) / 24 if diffs else None)
            self._add_copy(dataset, copy)

    def _snapshot_task(self, r: StackResource, dataset: Dataset) -> None:
        timed = timed_truenas(r.props.get("schedule"), r.urn, f"SnapshotTask {r.name}")
        if timed is None:
            return
        if truthy(r.props.get("enabled")) is False:
            return
        dataset.points.append(timed)
        self.jobs.append(Job("nas-snapshots", timed, dataset.name))
        value, unit = number(r.props.get("lifetime_value")), r.props.get("lifetime_unit")
        if value is not None and isinstance(unit, str) and unit in _UNIT_DAYS and timed.gap_hours:
            dataset.local_keeps.append((Keep(_level_for(timed.gap_hours), value * _UNIT_DAYS[unit]), r.urn))

    def _cloud_sync(self, r: StackResource, dataset: Dataset) -> None:
        if str(r.props.get("direction", "PUSH")).upper() != "PUSH" or truthy(r.props.get("enabled")) is False:
            return
        bucket = self.bucket_named(get(r.props, "attributes", "bucket"))
        destination = (bucket.destination if bucket else None) or str(get(r.props, "attributes", "bucket") or r.name)
        copy = self._object_copy(dataset, destination, bucket, "cloudsync", r.urn)
        declared = truthy(r.props.get("offsite"))
        if declared is not None:
            copy.offsite = declared
        timed = timed_truenas(r.props.get("schedule"), r.urn, f"CloudSyncTask {r.name}")
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            self.jobs.append(Job(destination, timed, dataset.name))
        self._add_copy(dataset, copy)
        if self._pings_healthchecks(r.props.get("pre_script"), r.props.get("post_script")):
            dataset.alerts |= self._covers

    def _export(self, r: StackResource, dataset: Dataset, labels: Mapping[str, Any]) -> None:
        target = str(labels.get(LABEL_DESTINATION))
        dataset.export_target = target
        timed = timed_cron(get(r.props, "spec", "schedule"), r.urn, f"CronJob {r.name}")
        copy = Copy(target, "nas-disk", False, "export", r.urn)
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            self.jobs.append(Job(f"export:{target}", timed, dataset.name))
        self._add_copy(dataset, copy)
        containers = get(r.props, "spec", "jobTemplate", "spec", "template", "spec", "containers", default=[])
        for container in containers if isinstance(containers, list) else []:
            env = container.get("env") if isinstance(container, Mapping) else None
            pings = [e for e in env or [] if isinstance(e, Mapping) and e.get("name") == "HC_URL"]
            if self._pings_healthchecks(*(e.get("value") for e in pings)) or any(map(_from_secret, pings)):
                dataset.alerts |= self._covers

    def _nas_export(self, r: StackResource, dataset: Dataset) -> None:
        """A NAS cron job writing into another NAS dataset (the configuration export): an export copy there."""
        target = str(r.props.get("target_dataset"))
        if target == dataset.name or truthy(r.props.get("enabled")) is False:
            return
        dataset.export_target = target
        copy = Copy(target, "nas-disk", False, "export", r.urn)
        timed = timed_truenas(r.props.get("schedule"), r.urn, f"CronJob {r.name}")
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            self.jobs.append(Job(f"export:{target}", timed, dataset.name))
        self._add_copy(dataset, copy)
        if self._pings_healthchecks(r.props.get("command")):
            dataset.alerts |= self._covers

    def _verification(self, r: StackResource, dataset: Dataset, labels: Mapping[str, Any]) -> None:
        role = labels.get(LABEL_VERIFICATION)
        if r.type == kinds.REPLICATION_DESTINATION and role is None:
            role = "drill"
        if role not in ("drill", "check"):
            return
        value = get(r.props, "spec", "trigger", "schedule")
        if value is None:
            value = get(r.props, "spec", "schedule")
        timed = timed_cron(value, r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name}")
        if timed is None:
            timed = timed_truenas(r.props.get("schedule"), r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name}")
        if timed is not None:
            (dataset.drills if role == "drill" else dataset.checks).append(timed)

    def _alert_rules(self, r: StackResource) -> None:
        groups = get(r.props, "spec", "groups", default=[])
        for group in groups if isinstance(groups, list) else []:
            rules = group.get("rules") if isinstance(group, Mapping) else None
            for rule in rules if isinstance(rules, list) else []:
                labels = rule.get("labels") if isinstance(rule, Mapping) else None
                if not isinstance(labels, Mapping) or not isinstance(labels.get("backup_alert"), str):
                    continue
                names = labels.get("dataset")
                for name in names.split(",") if isinstance(names, str) else []:
                    dataset = self.datasets.get(name.strip())
                    if dataset is not None:
                        dataset.alerts.add(labels["backup_alert"])

    def _pings_healthchecks(self, *scripts: Any) -> bool:
        return any(isinstance(s, str) and any(m in s for m in self._markers) for s in scripts)

    def _carry_exports(self) -> None:
        """An export's copies continue in its target dataset: carry them (one level, never the target's own exports)."""
        for dataset in self.datasets.values():
            target = self.datasets.get(dataset.export_target or "")
            if target is None or target is dataset:
                continue
            for copy in target.copies:
                if copy.carried or copy.tool == "export":
                    continue
                dataset.copies.append(Copy(copy.destination, copy.medium, copy.offsite, copy.tool, copy.urn,
                                           copy.bucket, list(copy.schedules), None, carried=True))
            dataset.drills.extend(target.drills)
            dataset.checks.extend(target.checks)
            dataset.alerts |= target.alerts

    # --- queries -------------------------------------------------------------------------------------------------

    def datasets_sorted(self) -> list[Dataset]:
        """Datasets by name, so messages come in a stable order."""
        return sorted(self.datasets.values(), key=lambda d: d.name)


def _level_for(gap_hours: float) -> str:
    """The retention level a schedule's points belong to."""
    for level in LEVELS:
        if gap_hours <= LEVEL_DAYS[level] * 24 * (31 / 30 if level == "monthly" else 1) + 1e-9:
            return level
    return "yearly"


_WITHIN = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$")


def _volsync_keeps(retain: Any, timed: Timed | None) -> list[Keep] | None:
    """restic/kopia `retain`: N points per level, each point at least one schedule gap apart."""
    if not isinstance(retain, Mapping):
        return None
    gap_days = (timed.gap_hours or 0) / 24 if timed is not None else 0.0
    keeps = []
    for level in LEVELS:
        count = number(retain.get(level))
        if count:
            keeps.append(Keep(level, count * max(LEVEL_DAYS[level], gap_days), LEVEL_DAYS[level] <= gap_days + 1e-9))
    within = retain.get("within")
    if isinstance(within, str):
        match = _WITHIN.match(within.strip())
        if match and any(match.groups()):
            years, months, days, hours = (int(g or 0) for g in match.groups())
            keeps.append(Keep("hourly", years * 365 + months * 30 + days + hours / 24))
    for key in ("last", "latest"):
        count = number(retain.get(key))
        if count and gap_days:
            keeps.append(Keep(_level_for(gap_days * 24), count * gap_days))
    return keeps


_KOPIUR_LEVELS = {"keepHourly": "hourly", "keepDaily": "daily", "keepWeekly": "weekly", "keepMonthly": "monthly",
                  "keepAnnual": "yearly", "keepLatest": "latest"}


def _kopiur_keeps(retention: Any, timed: Timed | None) -> list[Keep] | None:
    """Kopiur's `keep*` fields read as VolSync's kopia `retain`: the same kopia policy under other names."""
    if not isinstance(retention, Mapping):
        return None
    return _volsync_keeps({level: retention.get(key) for key, level in _KOPIUR_LEVELS.items()}, timed)


def _pgbackrest_release(policy: Any, keeps: list[Keep] | None, diff_gap_days: float | None) -> float | None:
    """pgBackRest expires the oldest differential once `diff` newer ones exist, before any full goes."""
    if keeps is None:
        return None
    release = keeps[0].window_days
    diff = number(policy.get("diff")) if isinstance(policy, Mapping) else None
    if diff and diff_gap_days:
        release = min(release, diff * diff_gap_days)
    return release


def _pgbackrest_keeps(policy: Any, full_interval_days: float | None) -> list[Keep] | None:
    """Continuous recovery (WAL) back to the oldest full backup kept."""
    if not isinstance(policy, Mapping):
        return None
    full = number(policy.get("full"))
    if not full:
        return None
    if policy.get("fullType") == "time":
        return [Keep("hourly", full)]
    return [Keep("hourly", full * (full_interval_days or 7.0))]


def _from_secret(entry: Mapping[str, Any]) -> bool:
    """An env entry read from a Secret key (`valueFrom.secretKeyRef`): how the program hands jobs a ping URL,
    which carries the project ping key. The pack cannot see the value, only that a Secret supplies one."""
    ref = get(entry, "valueFrom", "secretKeyRef")
    return isinstance(ref, Mapping) and all(isinstance(ref.get(k), str) and ref.get(k) for k in ("name", "key"))
