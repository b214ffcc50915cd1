"""Host datasets in the stack index: a `HostBackup` component's registered outputs say, per copy, where it goes,
when it runs (a 5-field cron equal to the systemd calendar event it renders), what restic keeps, and whether it is
checked and pinged; the drill says when it restores. The dataset rules then judge hosts like every other copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .props import get, truthy

if TYPE_CHECKING:
    from .estate import Dataset, Estate
    from .policy import StackResource

HOST_BACKUP = "homelab-backups:hosts:HostBackup"
"""The component of one host dataset (components/hosts.py)."""
STAGGER_STEP_SECONDS = 300
"""The plan staggers starts on one destination 5 minutes apart: a random start delay must stay below it."""


def host_copies(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The copy facts of a HostBackup's outputs (unreadable entries skipped)."""
    copies = props.get("copies")
    return [c for c in copies if isinstance(c, Mapping)] if isinstance(copies, list) else []


def collect(estate: Estate, r: StackResource, dataset: Dataset) -> None:
    """Add a host dataset's copies, points, checks, drill and alert coverage to the index."""
    from .estate import Copy, Job, _volsync_keeps, release_days, timed_cron

    for fact in host_copies(r.props):
        destination = fact.get("destination")
        if not isinstance(destination, str):
            continue
        timed = timed_cron(fact.get("schedule"), r.urn, f"{fact.get('service') or 'host unit'}")
        if fact.get("kind") == "nfs":
            copy = Copy(destination, "nas-disk", False, "restic", r.urn)
        else:
            bucket = estate.bucket_for(destination, dataset.tier)
            copy = estate._object_copy(dataset, destination, bucket, "restic", r.urn)
            if copy.offsite is None:
                copy.offsite = truthy(fact.get("offsite"))
        if timed is not None:
            copy.schedules.append(timed)
            dataset.points.append(timed)
            estate.jobs.append(Job(destination, timed, dataset.name))
            if fact.get("check_opts") is not None:
                dataset.checks.append(timed)  # restic check runs after each backup (NixOS runCheck)
        copy.keeps = _volsync_keeps(fact.get("keep"), timed)
        copy.release_days = release_days(copy.keeps) if copy.keeps is not None else None
        estate._add_copy(dataset, copy)
        if truthy(fact.get("ping")):
            dataset.alerts |= estate._covers
    drill = r.props.get("drill")
    if isinstance(drill, Mapping):
        timed = timed_cron(get(drill, "schedule"), r.urn, f"{drill.get('service') or 'host drill'}")
        if timed is not None:
            dataset.drills.append(timed)
