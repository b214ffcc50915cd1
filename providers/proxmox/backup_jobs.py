"""PVE `/cluster/backup`: the scheduled vzdump jobs, one per guest group and storage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi

from providers import wire
from providers.proxmox.service import TOKEN, CollectionProvider, CollectionResource, Field

__all__ = ["BackupJob", "BackupJobProvider"]

SELECTORS = ("vmid", "pool", "all")


@wire.provisioned(TOKEN, ("token_secret",))
class BackupJobProvider(CollectionProvider):
    """A vzdump job (Datacenter > Backup). Everything but the id is changed in place by PUT."""

    service = "PVE"
    path = "cluster/backup"
    kind = "PVE backup job"
    ui_location = "Datacenter > Backup"
    fields = (
        Field("schedule", "schedule", calendar=True),
        Field("storage", "storage"),
        Field("vmid", "vmid"),
        Field("pool", "pool"),
        Field("all", "all", bool, False),
        Field("exclude", "exclude"),
        Field("node", "node"),
        Field("mode", "mode", str, "snapshot"),
        Field("compress", "compress", str, "0"),
        Field("prune_backups", "prune-backups"),
        Field("notes_template", "notes-template"),
        Field("notification_mode", "notification-mode", str, "auto"),
        Field("enabled", "enabled", bool, True),
        Field("repeat_missed", "repeat-missed", bool, False),
        Field("comment", "comment"),
    )
    required = ("schedule", "storage")

    def _problems(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        chosen = [s for s in SELECTORS if props.get(s) not in (None, False)]
        if not all(wire.known(props.get(s)) for s in SELECTORS):
            return []
        if len(chosen) != 1:
            return [("vmid", f"select guests one way: vmid (a list), pool or all (here {chosen or 'none'})")]
        if props.get("exclude") and chosen != ["all"]:
            return [("exclude", "only applies with all=true")]
        return []


class BackupJob(CollectionResource, module="proxmox", name="BackupJob"):
    """A PVE scheduled backup job (`/cluster/backup/{id}`); unset inputs take PVE's defaults."""

    provider_class: ClassVar[type[CollectionProvider]] = BackupJobProvider

    schedule: pulumi.Output[str]
    """Calendar event on the nodes' clock, e.g. `21:00`."""
    storage: pulumi.Output[str]
    """The PVE storage id vzdump writes to."""
    vmid: pulumi.Output[str | None]
    """Comma-separated guest ids, when selected by id."""
    pool: pulumi.Output[str | None]
    """The pool whose guests are backed up, when selected by pool."""
    all: pulumi.Output[bool]
    """Every guest (minus `exclude`)."""
    exclude: pulumi.Output[str | None]
    """Comma-separated guest ids left out of `all`."""
    node: pulumi.Output[str | None]
    """Only guests on this node."""
    mode: pulumi.Output[str]
    """snapshot, suspend or stop."""
    compress: pulumi.Output[str]
    """0, 1, gzip, lzo or zstd."""
    prune_backups: pulumi.Output[str | None]
    """Retention PVE applies after each backup, e.g. `keep-daily=14,keep-weekly=4`."""
    notes_template: pulumi.Output[str | None]
    """Notes written on each backup ({{guestname}}, {{vmid}}, {{cluster}}, {{node}})."""
    notification_mode: pulumi.Output[str]
    """auto, legacy-sendmail or notification-system."""
    enabled: pulumi.Output[bool]
    """Whether the job runs."""
    repeat_missed: pulumi.Output[bool]
    """Run a start missed while the node was off as soon as it is back."""
    comment: pulumi.Output[str | None]
    """Shown in Datacenter > Backup."""
    tier: pulumi.Output[int | None]
    """The tier of the guests it covers (read by the policy pack)."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 job_id: str, schedule: pulumi.Input[str], storage: pulumi.Input[str],
                 vmid: str | None = None, pool: str | None = None, all: bool | None = None,  # noqa: A002 (PVE's name)
                 exclude: str | None = None, node: str | None = None, mode: str | None = None,
                 compress: str | None = None, prune_backups: str | None = None, notes_template: str | None = None,
                 notification_mode: str | None = None, enabled: bool | None = None,
                 repeat_missed: bool | None = None, comment: str | None = None, tier: int | None = None,
                 context: str | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry,
                      job_id=job_id, schedule=schedule, storage=storage, vmid=vmid, pool=pool, all=all,
                      exclude=exclude, node=node, mode=mode, compress=compress, prune_backups=prune_backups,
                      notes_template=notes_template, notification_mode=notification_mode, enabled=enabled,
                      repeat_missed=repeat_missed, comment=comment, tier=tier, context=context)
