"""The compiled plan: plain immutable records that components wire and outputs export."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from inventory.tiers import Retention
from plan.cron import Cron
from plan.names import bucket_key

if TYPE_CHECKING:
    from plan.proxmox import ProxmoxPlan
    from plan.units import ProtectionUnit


@dataclass(frozen=True)
class Lifecycle:
    """Bucket lifecycle in neutral form. Current objects are never expired: tools own retention."""

    noncurrent_days: int | None
    """Delete noncurrent (S3) / hidden (B2) versions this many days after they stop being current."""
    abort_multipart_days: int
    """Abort incomplete multipart uploads (B2: unfinished large files) after this many days."""


@dataclass(frozen=True)
class Writer:
    """One tool instance writing into a bucket under its own prefix: gets its own scoped credential."""

    key: str
    dataset: str
    tool: str
    prefix: str


@dataclass(frozen=True)
class BucketPlan:
    """One bucket per (destination, tier): tier decides lock and lifecycle, prefixes separate writers."""

    destination: str
    kind: str
    flavour: str | None
    tier: int
    name: str
    endpoint: str
    region: str
    offsite: bool
    versioning: bool
    lifecycle: Lifecycle | None
    lock_days: int
    """Default object-lock retention (governance); 0 = no lock."""
    writers: tuple[Writer, ...]
    price_usd_per_tb_month: float = 0.0
    """The destination's storage price (cost estimate and the budget policy)."""
    admin_api: str = "none"
    """S3-compatible: the admin API that creates the writers' keys (`minio`, `garage`, `ceph-rgw`, `wasabi`), or
    `none` when the user supplies them."""
    admin_endpoint: str | None = None
    """Where that admin API answers."""

    @property
    def key(self) -> str:
        return bucket_key(self.destination, self.tier)


@dataclass(frozen=True)
class PgBackRestSchedule:
    full: Cron
    diff: Cron
    retention_full: int
    """Count of full backups kept: weekly fulls covering the tier's retention window, plus one."""
    retention_diff: int


@dataclass(frozen=True)
class CopyPlan:
    """One copy of one dataset at one destination."""

    dataset: str
    destination: str
    kind: str
    offsite: bool
    media: str
    tool: str
    """restic | kopia | kopiur | pgbackrest | cloudsync"""
    bucket: str
    endpoint: str
    region: str
    repository: str
    """Path of the repository inside the bucket (or NFS export)."""
    schedule: Cron
    retention: Retention
    lock_days: int
    checksum_env: bool
    healthcheck_slug: str
    pgbackrest: PgBackRestSchedule | None = None
    private_ca: bool = False
    """The destination's certificate chains to a private CA (`ca_file`): movers trust it from a ConfigMap."""
    restore_mbps: float = 0.0
    """Bandwidth a restore from this copy gets (plan/restore.py)."""
    restore_hours: float = 0.0
    """Estimated time to restore the dataset's size from this copy."""
    replica_of: str | None = None
    """Kopiur replication: the destination whose repository this copy replicates (its schedule is the replication
    cadence); None when the copy is written by snapshots of its own (plan/kopiur.py)."""

    @property
    def key(self) -> str:
        return f"{self.dataset}-{self.destination}"


@dataclass(frozen=True)
class SnapshotLevel:
    """One TrueNAS periodic snapshot task (one per GFS level)."""

    level: str
    lifetime_value: int
    lifetime_unit: str
    schedule: dict[str, str]
    naming_schema: str
    interval_hours: int
    """Longest gap between two snapshots of this level."""


@dataclass(frozen=True)
class ExportPlan:
    """An app-consistent dump CronJob writing into the NAS path of its target dataset."""

    engine: str
    schedule: Cron
    target_dataset: str
    target_path: str
    keep: int


@dataclass(frozen=True)
class DatasetPlan:
    name: str
    tier: int
    source_kind: str
    rpo_hours: int
    """Longest gap between two copies actually scheduled (never above the tier's RPO)."""
    copies: tuple[CopyPlan, ...]
    snapshots: tuple[SnapshotLevel, ...] = ()
    export: ExportPlan | None = None
    verify_every_days: int = 0
    drill_every_days: int = 0
    alerts: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    """Distinct media holding the data, primary included."""
    nas_utc_offset_minutes: int = 0
    """NAS datasets: how far the NAS's clock is ahead of UTC; its tasks get the copies' UTC times shifted by this."""
    size_gb: float = 0.0

    @property
    def copy_count(self) -> int:
        """Copies including the primary (snapshots are not independent copies)."""
        return 1 + len(self.copies)

    @property
    def offsite_count(self) -> int:
        return sum(c.offsite for c in self.copies)


@dataclass(frozen=True)
class Plan:
    datasets: tuple[DatasetPlan, ...]
    buckets: tuple[BucketPlan, ...]
    monthly_cost_usd: dict[str, float] = field(default_factory=dict)
    """Estimated monthly storage cost per destination."""
    units: tuple[ProtectionUnit, ...] = ()
    """One protection unit per dataset (dataset × its tool), in inventory order: names, jobs and keys
    (plan/units.py)."""
    proxmox: ProxmoxPlan | None = None
    """Proxmox guests: their protection units, PVE backup jobs and PBS jobs (plan/proxmox.py); None without them."""

    def dataset(self, name: str) -> DatasetPlan:
        return self._datasets_by_name[name]

    def unit(self, dataset: str) -> ProtectionUnit:
        """The protection unit of `dataset`."""
        return self._units_by_dataset[dataset]

    @cached_property
    def _datasets_by_name(self) -> dict[str, DatasetPlan]:
        """Name -> dataset plan, built once: layers look datasets up by name once per dataset, which a scan made
        quadratic in the estate (2.2 s of CPU at 5,000 datasets)."""
        index: dict[str, DatasetPlan] = {}
        for dp in self.datasets:
            index.setdefault(dp.name, dp)
        return index

    @cached_property
    def _units_by_dataset(self) -> dict[str, ProtectionUnit]:
        index: dict[str, ProtectionUnit] = {}
        for unit in self.units:
            index.setdefault(unit.dataset, unit)
        return index

    def bucket(self, destination: str, tier: int) -> BucketPlan:
        return next(b for b in self.buckets if b.destination == destination and b.tier == tier)
