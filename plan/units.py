"""Protection units: what the plan decides for one dataset and the tool that protects it, read by every later layer.

A unit is the dataset × tool pair (a PVC with its mover, a PostgreSQL cluster with pgBackRest, a NAS dataset with
cloud sync, an export with its dump engine). Its record carries every derived fact the manifest builders, the
components and the runbook contract need: the copies with their backup times, the check and drill jobs with times
from the same staggering as the backups (plan/stagger.py, cron formats in plan/cron.py), the one copy a drill
restores, and every object name, Secret name, label, Healthchecks slug and credential key. Later layers translate
these records; they never re-derive a time, a name or a choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.models import Source
from plan.cron import Cron
from plan.model import CopyPlan, DatasetPlan
from plan.repositories import PgBackRestRepository, RepositorySettings

CHECK = "check"
"""Role of a scheduled repository integrity check."""
DRILL = "drill"
"""Role of a scheduled restore drill."""

CHECK_OFFSET_MINUTES = 120
"""Checks start two hours after the middle of the backup interval, clear of repository maintenance."""
DRILL_OFFSET_MINUTES = 60
"""Drills start an hour after the middle of the backup interval (an hour after repository maintenance)."""
DRILL_CHECK_DELAY_MINUTES = 4 * 60
"""VolSync drills: how long after the scratch restore starts its check runs (the restore must finish by then)."""

TRANSFER_MODE = {1: "COPY", 2: "SYNC", 3: "SYNC"}
"""TrueNAS cloud sync transfer mode per tier: tier 1 never propagates a deletion offsite (COPY); lower tiers
mirror the dataset (SYNC), so deleted data stops costing storage."""


@dataclass(frozen=True)
class VerificationJob:
    """One scheduled job proving a copy reads back: an integrity check or a restore drill."""

    role: str
    """`check` (the repository's own verify command) or `drill` (a restore of the newest backup, then checked)."""
    destination: str
    """The copy the job reads (for an export's drill: its target dataset, where the dumps live)."""
    repo_index: int
    """That copy's position among the unit's copies, from 1 (pgBackRest's `repo<N>`)."""
    name: str
    """The CronJob's name (at most 52 characters, room for the Jobs' suffix)."""
    schedule: Cron
    """When the CronJob runs, UTC. VolSync drills: the check after the scratch restore (`restore_at`)."""
    slug: str
    """The Healthchecks check it pings: `<copy's backup slug>-check` or `-drill`."""
    labels: dict[str, str]
    """The job's labels (dataset, tier, destination where it reads one copy, the verification role)."""
    restore_at: Cron | None = None
    """VolSync drills only: when the scratch ReplicationDestination restores (the check runs
    `DRILL_CHECK_DELAY_MINUTES` later)."""
    scratch: str | None = None
    """VolSync drills only: the name of the scratch claim and of the ReplicationDestination filling it."""
    secret: str | None = None
    """The Secret the job reads its repository settings and keys from (a read-only key where the tool allows)."""


@dataclass(frozen=True)
class CopyObjects:
    """The names and keys of what protects one copy of a unit."""

    destination: str
    labels: dict[str, str]
    """Labels of every object serving this copy (dataset, tier, destination, manager)."""
    backup_slug: str
    """The Healthchecks check the copy's backups ping."""
    bucket_key: str | None = None
    """`<destination>-tier<N>`: the bucket the copy writes into (`BucketPlan.key`); None on NFS and for dumps."""
    writer_key: str | None = None
    """`<dataset>-<tool>`: the copy's writer in that bucket, whose scoped key (and read-only twin) it uses."""
    source_object: str | None = None
    """VolSync: the ReplicationSource (metrics carry it as `obj_name`)."""
    repository_secret: str | None = None
    """The Secret the backup tool reads (VolSync repository Secret, pgBackRest credentials Secret)."""
    reader_secret: str | None = None
    """Its read-only twin (the copy's read-only S3 key instead of the writer's); None where there is no S3 key."""
    restore_object: str | None = None
    """VolSync: the paused manual-restore ReplicationDestination."""
    maintenance: Cron | None = None
    """kopia: when KopiaMaintenance runs (daily, half a backup interval after the first backup)."""
    maintenance_object: str | None = None
    """kopia: the KopiaMaintenance object."""
    repository: RepositorySettings | None = None
    """VolSync: how the mover opens the repository (the repository Secret's keys)."""
    pgbackrest: PgBackRestRepository | None = None
    """pgBackRest: the stanza's repository for this copy."""
    scheduled_backups: tuple[str, str] | None = None
    """pgBackRest: the (full, diff) ScheduledBackup objects of this repository."""
    nas_credential: str | None = None
    """NAS datasets: the TrueNAS cloud credential's name (`hlb-<dataset>-<destination>`, never cut: the inventory
    refuses names over TrueNAS's 100 characters)."""
    nas_task: str | None = None
    """NAS datasets: the cloud sync task's description (how a human finds it in the TrueNAS UI)."""
    ca_config_map: str | None = None
    """Copies to a private-CA destination: the ConfigMap carrying its bundle (VolSync's `customCA`, the pgBackRest
    sidecar's projected source, the check and drill Jobs' volume); None when the destination's CA is public."""


@dataclass(frozen=True)
class ProtectionUnit:
    """Everything decided for one dataset × tool. Immutable; built once by `plan.build.build_plan`."""

    dataset: str
    tier: int
    kind: str
    """Source kind: pvc | postgres | truenas | export."""
    tool: str
    """restic | kopia | pgbackrest | cloudsync | pg_dump | sqlite."""
    source: Source
    """The source facts as validated from the inventory (namespace, claim, cluster, NAS dataset, identities...);
    immutable."""
    plan: DatasetPlan
    """The dataset's plan: copies with their backup times, retention, snapshots, export, cadences."""
    namespace: str | None
    """Where its Kubernetes jobs run: the app's namespace; NAS datasets: the monitoring namespace."""
    labels: dict[str, str]
    """Labels of objects serving the whole unit (dataset, tier, manager)."""
    objects: tuple[CopyObjects, ...]
    """Per copy (same order as `copies`): object names, Secret names, labels, slug and credential keys."""
    checks: tuple[VerificationJob, ...] = ()
    """Integrity checks, one per copy whose tool has a verify command (restic, kopia, pgBackRest), when the tier
    asks for them."""
    drill: VerificationJob | None = None
    """The one restore drill (its `destination` is the drilled copy), when the tier asks for one and a copy
    can be drilled: the first copy for VolSync and pgBackRest (local when there is one), the first offsite copy
    for NAS datasets (cloud sync encrypts only offsite), the dump on the NAS for exports."""
    ping_secret: str = ""
    """The Secret holding the Healthchecks ping URLs its jobs read (one per namespace they run in)."""
    export_job: str | None = None
    """Exports: the dump CronJob's name (the alerts and the drill refer to it)."""
    transfer_mode: str | None = None
    """NAS datasets: the cloud sync transfer mode (`TRANSFER_MODE` by tier)."""
    stanza: str | None = None
    """pgBackRest: the Stanza and PluginConfig objects' name."""
    offsite_override_reason: str | None = None
    """Why the dataset has no offsite copy, when the inventory says so (the pack reads it)."""
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Destination -> (bucket key, writer key) of every copy that writes with a scoped key of its own (exports
    write only to the NAS: their offsite copies are their target dataset's writer)."""

    @property
    def name(self) -> str:
        """The dataset's name (what every object name starts with)."""
        return self.dataset

    @property
    def size_gb(self) -> float:
        """The dataset's declared size (scratch volumes of drills are sized from it)."""
        return self.plan.size_gb

    @property
    def copies(self) -> tuple[CopyPlan, ...]:
        """The copies, in plan order."""
        return self.plan.copies

    def copy_objects(self, destination: str) -> CopyObjects:
        """The names of the copy at `destination`."""
        found = next((o for o in self.objects if o.destination == destination), None)
        if found is None:
            raise ValueError(f"{self.dataset} has no copy at {destination!r}")
        return found

    @property
    def slugs(self) -> tuple[str, ...]:
        """Every Healthchecks slug a job of this unit pings, backups first."""
        return (*(o.backup_slug for o in self.objects), *(c.slug for c in self.checks),
                *((self.drill.slug,) if self.drill else ()))
