"""PBS jobs: sync (`/config/sync`), prune (`/config/prune`), verify (`/config/verify`), and a datastore's garbage
collection schedule (`gc-schedule` on `/config/datastore/{name}`: a datastore setting, not a job)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi

from providers import wire
from providers.proxmox.service import TOKEN, CollectionProvider, CollectionResource, Field

if TYPE_CHECKING:
    from proxmoxer import ProxmoxAPI

__all__ = ["DatastoreGc", "PruneJob", "SyncJob", "VerifyJob"]

KEEP = tuple(Field(f"keep_{level}", f"keep-{level}", int) for level in
             ("last", "hourly", "daily", "weekly", "monthly", "yearly"))


@wire.provisioned(TOKEN, ("token_secret",))
class SyncJobProvider(CollectionProvider):
    """A pull sync job filling `store` from `remote_store` (on `remote`, or local when no remote is given)."""

    service = "PBS"
    path = "config/sync"
    kind = "PBS sync job"
    ui_location = "Datastore > Sync Jobs"
    fields = (Field("store", "store"), Field("remote", "remote"), Field("remote_store", "remote-store"),
              Field("schedule", "schedule", calendar=True), Field("remove_vanished", "remove-vanished", bool, False),
              Field("comment", "comment"), Field("sync_direction", "sync-direction"))
    required = ("store", "remote_store", "schedule")
    replaces = ("job_id", "store")


@wire.provisioned(TOKEN, ("token_secret",))
class PruneJobProvider(CollectionProvider):
    """A prune job keeping `keep_*` backups per group in `store`."""

    service = "PBS"
    path = "config/prune"
    kind = "PBS prune job"
    ui_location = "Datastore > Prune & GC Jobs"
    fields = (Field("store", "store"), Field("schedule", "schedule", calendar=True), *KEEP,
              Field("disable", "disable", bool, False), Field("comment", "comment"))
    required = ("store", "schedule")
    replaces = ("job_id", "store")

    def _problems(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        values = [props.get(f.name) for f in KEEP]
        if all(v is None for v in values):
            return [("keep_daily", "a prune job without any keep_* option would delete every backup but the "
                     "newest; set the tier's retention")]
        return [(f.name, "must be at least 1") for f in KEEP
                if wire.is_int(props.get(f.name)) and props[f.name] < 1]


@wire.provisioned(TOKEN, ("token_secret",))
class VerifyJobProvider(CollectionProvider):
    """A verify job re-reading every chunk of `store`'s snapshots not verified within `outdated_after` days."""

    service = "PBS"
    path = "config/verify"
    kind = "PBS verify job"
    ui_location = "Datastore > Verify Jobs"
    fields = (Field("store", "store"), Field("schedule", "schedule", calendar=True),
              Field("ignore_verified", "ignore-verified", bool, True), Field("outdated_after", "outdated-after", int),
              Field("comment", "comment"))
    required = ("store", "schedule")
    replaces = ("job_id", "store")


@wire.provisioned(TOKEN, ("token_secret",))
class DatastoreGcProvider(CollectionProvider):
    """A datastore's garbage-collection schedule. The datastore is the user's (created with its disks); only the
    schedule is managed: create and update set it, delete clears it, the id is the datastore's name."""

    service = "PBS"
    path = "config/datastore"
    kind = "PBS garbage collection schedule of datastore"
    ui_location = "Datastore > Prune & GC Jobs"
    fields = (Field("gc_schedule", "gc-schedule", calendar=True),)
    required = ("gc_schedule",)

    def _requirement(self, name: str) -> str:
        return "the datastore's name" if name == "job_id" else "the schedule, e.g. 'daily'"

    def _post(self, api: ProxmoxAPI, props: Mapping[str, Any]) -> None:
        self._entry(api, str(props["job_id"])).put(**self._body(props))

    def _put(self, api: ProxmoxAPI, id_: str, body: dict[str, Any], cleared: list[str]) -> None:
        self._entry(api, id_).put(**body)

    def _remove(self, api: ProxmoxAPI, id_: str) -> None:
        self._entry(api, id_).put(delete="gc-schedule")


class SyncJob(CollectionResource, module="proxmox", name="SyncJob"):
    """A PBS sync job (`/config/sync/{id}`)."""

    provider_class: ClassVar[type[CollectionProvider]] = SyncJobProvider

    store: pulumi.Output[str]
    """The datastore filled."""
    remote: pulumi.Output[str | None]
    """The PBS remote pulled from; None: a local datastore."""
    remote_store: pulumi.Output[str]
    """The datastore pulled from."""
    schedule: pulumi.Output[str]
    """Calendar event on the PBS host's clock."""
    sync_direction: pulumi.Output[str | None]
    """`push` from this PBS to `remote`; None: PBS's default, pull."""
    remove_vanished: pulumi.Output[bool]
    """Whether snapshots gone from the source are removed here (never for an offsite copy: its own prune job
    decides)."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 job_id: str, store: str, remote_store: str, schedule: str, remote: str | None = None,
                 remove_vanished: bool | None = None, comment: str | None = None, tier: int | None = None,
                 context: str | None = None, sync_direction: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry, job_id=job_id,
                      store=store, remote=remote, remote_store=remote_store, schedule=schedule,
                      remove_vanished=remove_vanished, comment=comment, tier=tier, context=context,
                      sync_direction=sync_direction)


class PruneJob(CollectionResource, module="proxmox", name="PruneJob"):
    """A PBS prune job (`/config/prune/{id}`)."""

    provider_class: ClassVar[type[CollectionProvider]] = PruneJobProvider

    store: pulumi.Output[str]
    """The datastore pruned."""
    schedule: pulumi.Output[str]
    """Calendar event on the PBS host's clock."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 job_id: str, store: str, schedule: str, keep: Mapping[str, int], comment: str | None = None,
                 tier: int | None = None, context: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry, job_id=job_id,
                      store=store, schedule=schedule, comment=comment, tier=tier, context=context,
                      **{f"keep_{level}": count for level, count in keep.items()})


class VerifyJob(CollectionResource, module="proxmox", name="VerifyJob"):
    """A PBS verify job (`/config/verify/{id}`)."""

    provider_class: ClassVar[type[CollectionProvider]] = VerifyJobProvider

    store: pulumi.Output[str]
    """The datastore verified."""
    outdated_after: pulumi.Output[int | None]
    """Days after which a verified snapshot is verified again."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 job_id: str, store: str, schedule: str, outdated_after: int | None = None,
                 ignore_verified: bool | None = None, comment: str | None = None, tier: int | None = None,
                 context: str | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry, job_id=job_id,
                      store=store, schedule=schedule, outdated_after=outdated_after, ignore_verified=ignore_verified,
                      comment=comment, tier=tier, context=context)


class DatastoreGc(CollectionResource, module="proxmox", name="DatastoreGc"):
    """The garbage-collection schedule of a PBS datastore (`gc-schedule`)."""

    provider_class: ClassVar[type[CollectionProvider]] = DatastoreGcProvider

    gc_schedule: pulumi.Output[str]
    """Calendar event on the PBS host's clock."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 datastore: str, gc_schedule: str, context: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry,
                      job_id=datastore, gc_schedule=gc_schedule, context=context)
