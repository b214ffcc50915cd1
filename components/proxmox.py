"""Proxmox guests: a PVE backup job per guest group and storage, and on the PBS side the sync job that makes the
offsite copy plus each datastore's prune, verify and garbage-collection schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.healthchecks import PingBase
from inventory.proxmox import PBS_CREDENTIAL, PVE_CREDENTIAL, PbsRemote, PbsServer, Proxmox
from manifests import proxmox as proxmox_manifests
from manifests.healthchecks import PING_KEY
from plan.cron import Cron
from plan.proxmox import PbsDatastoreJobs, PbsSyncJob, PveJob
from plan.units import ProtectionUnit
from providers.proxmox.backup_jobs import BackupJob
from providers.proxmox.pbs_jobs import DatastoreGc, PruneJob, SyncJob, VerifyJob
from stack.kubernetes import KubernetesTarget


def connection(api: Proxmox | PbsServer | PbsRemote) -> dict[str, object]:
    """The `connection` input of a PVE or PBS resource: where, which token id, how TLS is verified (no secret)."""
    settings: dict[str, object] = {"url": api.api_url, "token_id": api.token_id, "verify_tls": api.verify_tls}
    if api.ca_file:
        settings["ca_file"] = api.ca_file
    return settings


@dataclass(frozen=True)
class GuestsArgs:
    unit: ProtectionUnit
    """The guest group's protection unit (tool vzdump): copies with their times and retention."""
    jobs: tuple[PveJob, ...]
    """Its PVE backup jobs, one per storage vzdump writes to."""
    connection: dict[str, object]
    """The PVE API (see `connection`)."""


class ProtectedGuests(pulumi.ComponentResource):
    """One tier's guests: the scheduled vzdump jobs that copy them to each storage."""

    job_ids: pulumi.Output[list[str]]
    """The PVE job ids (Datacenter > Backup)."""

    def __init__(self, name: str, args: GuestsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:proxmox:ProtectedGuests", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for job in args.jobs:
            selection = dict(job.selection)
            BackupJob(
                f"{name}-{job.destination}-backup", connection=args.connection, credentials_entry=PVE_CREDENTIAL,
                job_id=job.id, schedule=job.schedule, storage=job.storage, vmid=selection.get("vmid"),
                pool=selection.get("pool"), all=bool(selection.get("all")), exclude=selection.get("exclude"),
                node=selection.get("node"), mode=job.mode, compress=job.compress, prune_backups=job.prune_backups,
                notes_template=job.notes_template, notification_mode="notification-system", enabled=True,
                repeat_missed=True, comment=job.comment, tier=job.tier, context=name, opts=child)
        self.job_ids = pulumi.Output.from_input([job.id for job in args.jobs])
        self.register_outputs({"job_ids": self.job_ids})


@dataclass(frozen=True)
class BackupServerArgs:
    syncs: tuple[PbsSyncJob, ...]
    """Sync jobs filling offsite datastores."""
    datastores: tuple[PbsDatastoreJobs, ...]
    """Per datastore: GC schedule, prune job (synced datastores), verify job."""
    connection: dict[str, object]
    """The PBS API (see `connection`)."""
    after: tuple[pulumi.Resource, ...] = ()
    """Datastores and remotes the program creates (components/proxmox_offsite.py): the jobs wait for them."""


class ProxmoxBackupServer(pulumi.ComponentResource):
    """What PBS runs: the offsite sync, pruning of synced copies, verification and garbage collection."""

    def __init__(self, name: str, args: BackupServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:proxmox:ProxmoxBackupServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        common = {"connection": args.connection, "credentials_entry": PBS_CREDENTIAL, "opts": child}
        for sync in args.syncs:
            SyncJob(f"{name}-{sync.destination}-sync", job_id=sync.id, store=sync.store,
                    remote_store=sync.remote_store, remote=sync.remote, schedule=sync.schedule, remove_vanished=False,
                    comment=f"homelab-backups offsite copy {sync.destination}", context=sync.destination,
                    sync_direction="push" if sync.direction == "push" else None, **common)
        for store in args.datastores:
            DatastoreGc(f"{name}-{store.destination}-gc", datastore=store.datastore, gc_schedule=store.gc_schedule,
                        context=store.destination, **common)
            if store.prune_id is not None and store.prune is not None and store.prune_schedule is not None:
                PruneJob(f"{name}-{store.destination}-prune", job_id=store.prune_id, store=store.datastore,
                         schedule=store.prune_schedule, keep=store.prune.levels(),
                         comment="homelab-backups tier retention", context=store.destination, **common)
            if store.verify_id is not None and store.verify_schedule is not None:
                VerifyJob(f"{name}-{store.destination}-verify", job_id=store.verify_id, store=store.datastore,
                          schedule=store.verify_schedule, outdated_after=store.outdated_after_days,
                          ignore_verified=True, comment="homelab-backups verification cadence",
                          context=store.destination, **common)
        self.register_outputs({})


def declare_proxmox(pve: Proxmox, units: tuple[ProtectionUnit, ...], jobs: tuple[PveJob, ...],
                    syncs: tuple[PbsSyncJob, ...], datastores: tuple[PbsDatastoreJobs, ...],
                    after: Sequence[pulumi.Resource] = ()) -> None:
    """Every Proxmox resource of the plan: one component per guest group, one for the PBS server (datastores on a
    remote PBS are `components.proxmox_offsite`'s)."""
    datastores = tuple(d for d in datastores if d.server is None)
    link = connection(pve)
    for unit in units:
        ProtectedGuests(unit.dataset, GuestsArgs(unit, tuple(j for j in jobs if j.group == unit.dataset), link))
    if pve.pbs is not None and (syncs or datastores):
        ProxmoxBackupServer("pbs", BackupServerArgs(syncs, datastores, connection(pve.pbs), tuple(after)))


@dataclass(frozen=True)
class CoverageArgs:
    namespace: str
    """Where the CronJob runs (the monitoring namespace)."""
    schedule: Cron
    api_url: str
    token_id: str
    """The read-only token (PVEAuditor)."""
    token_secret: pulumi.Output
    """Secret Output of its secret."""
    slug: str
    ping: PingBase
    target: KubernetesTarget
    ca_bundle: str | None = None
    """`proxmox.ca_file`'s PEM bundle, mounted so curl trusts the API as the program's provider does."""
    verify_tls: bool = True


class CoverageCheck(pulumi.ComponentResource):
    """The daily check that every guest is in a backup job (`/cluster/backup-info/not-backed-up`)."""

    def __init__(self, name: str, args: CoverageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:proxmox:CoverageCheck", name, None, opts)
        ns = args.namespace
        args.target.declare_secret(f"{name}-token", proxmox_manifests.token_secret(ns),
                                   {proxmox_manifests.TOKEN_SECRET.name: args.token_secret}, self)
        args.target.declare_secret(f"{name}-healthchecks", proxmox_manifests.ping_secret(ns, args.ping.endpoint,
                                                                                         args.slug),
                                   {PING_KEY.name: args.ping.key}, self)
        ca_config_map = declare_ca_config_map(args.target, ns, args.ca_bundle, self)
        args.target.declare(f"{name}-cronjob", proxmox_manifests.coverage_cronjob(
            ns, args.schedule, args.api_url, args.token_id, args.slug, ca_config_map, args.verify_tls), self)
        self.register_outputs({})


def declare_ca_config_map(target: KubernetesTarget, namespace: str, bundle: str | None,
                          parent: pulumi.Resource) -> str | None:
    """The ConfigMap of `proxmox.ca_file` for the CronJobs calling the PVE API (declared once, shared); its name."""
    if bundle is None:
        return None
    target.declare_config_map(proxmox_manifests.CA_CONFIG_MAP, proxmox_manifests.ca_config_map(namespace, bundle),
                              parent)
    return proxmox_manifests.CA_CONFIG_MAP
