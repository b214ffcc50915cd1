"""Kopiur decisions over the protection units: which copies are replicas, what their repositories keep, and when
each repository's maintenance runs.

Kopiur (`kopiur.home-operations.com`, a kopia operator) protects a PVC with a SnapshotPolicy and SnapshotSchedule
per repository it writes. A dataset chooses how its offsite copies are made (`source.offsite_by`):

- `snapshot`: every destination holds a repository of its own, filled by its own staggered snapshots (as VolSync
  does, one ReplicationSource per destination);
- `replication`: the dataset is snapshotted into the repository on the NAS only, and each offsite destination
  receives a replica of that repository from a RepositoryReplication on the offsite cadence (the homelab notes'
  "Kopia server sync"). A replica is a copy on another medium; its RPO is the replication cadence (the copy's
  schedule). A replica mirrors its source repository, snapshots and retention included, so the NAS repository
  keeps the longer of the tier's local and offsite retention at every level.
"""

from __future__ import annotations

import math

from inventory.models import Dataset, Destination, Inventory, NfsDestination, PvcSource
from inventory.tiers import Retention, TierSettings
from plan.cron import DAY_MINUTES, Cron, cadence_for
from plan.model import CopyPlan
from plan.stagger import after_backups

KOPIUR = "kopiur"
"""The tool name of Kopiur copies (`CopyPlan.tool`, writer keys `<dataset>-kopiur`)."""
REPOSITORY_PREFIX = "kopiur"
"""Repositories live under `kopiur/<namespace>/<claim>` in a bucket or the NAS export."""
QUICK_MAINTENANCE_EVERY_HOURS = 6
"""Quick maintenance (index and log compaction) every 6 hours, kopia's own default cadence."""
FULL_MAINTENANCE_EVERY_HOURS = 24
"""Full maintenance (content reclamation, blob retention extension) daily: within any lock of two days or more."""


def replicates(ds: Dataset) -> bool:
    """The dataset's offsite copies are replicas of its NAS repository."""
    source = ds.source
    return isinstance(source, PvcSource) and source.mover == KOPIUR and source.offsite_by == "replication"


def replica_source(ds: Dataset, dests: tuple[Destination, ...]) -> str | None:
    """The destination whose repository the dataset's replicas copy: its first NAS export."""
    if not replicates(ds):
        return None
    return next((d.name for d in dests if isinstance(d, NfsDestination)), None)


def replicated_retention(tier: TierSettings, every_hours: int) -> Retention:
    """What a replicated repository keeps: at each level the longer of the tier's local and offsite retention,
    because its replicas mirror it and must still meet the offsite retention. Its finest level also outlives the
    offsite lock by a day: snapshots taken every `every_hours` and released sooner would have their blobs deleted
    from the locked replicas while the lock still holds them (design §5)."""
    local, offsite = tier.local_retention, tier.offsite_retention
    merged = {level: max(getattr(local, level), getattr(offsite, level))
              for level in ("hourly", "daily", "weekly", "monthly", "yearly")}
    if merged["hourly"] and tier.lock_days:
        merged["hourly"] = max(merged["hourly"], math.ceil((tier.lock_days + 1) * 24 / every_hours))
    return Retention(**merged)


def source_interval_hours(inv: Inventory, ds: Dataset, tier: TierSettings) -> int:
    """How often the replicated NAS repository receives snapshots: the dataset's RPO cadence (its local copy)."""
    every, weekly = cadence_for(min(tier.rpo_hours, ds.rpo_hours or tier.rpo_hours))
    return 24 * 7 if weekly else every


def full_maintenance(copy: CopyPlan) -> Cron | None:
    """Daily full maintenance of a repository Kopiur writes, half a backup interval after its first backup; None
    for replicas (their source's maintenance reaches them by replication)."""
    if copy.tool != KOPIUR or copy.replica_of is not None:
        return None
    return Cron(after_backups(copy.schedule, 0), FULL_MAINTENANCE_EVERY_HOURS)


def quick_maintenance(full: Cron) -> Cron:
    """Quick maintenance every six hours, starting three hours off the full run so the two never overlap."""
    return Cron((full.minute_of_day + 3 * 60) % DAY_MINUTES, QUICK_MAINTENANCE_EVERY_HOURS)
