"""The offsite side of PBS: S3-backed datastores on `proxmox.pbs` (an S3 endpoint with the bucket writer's key, and
the datastore), and remote PBS servers (the sync token there, the remote entry here, and the remote datastore's
prune, verify and garbage-collection schedules, run on the remote)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.proxmox import connection
from inventory.proxmox import PBS_CREDENTIAL, Proxmox
from plan.proxmox import PbsDatastoreJobs
from plan.proxmox_offsite import PbsOffsitePlan
from providers.proxmox.pbs_jobs import DatastoreGc, PruneJob, VerifyJob
from providers.proxmox.pbs_offsite import Remote, S3Datastore, S3Endpoint, SyncToken


@dataclass(frozen=True)
class PbsOffsiteArgs:
    plan: PbsOffsitePlan
    remote_datastores: tuple[PbsDatastoreJobs, ...]
    """Datastores on remote PBS servers (`server` set): their jobs run there."""
    pbs: Mapping[str, object]
    """`proxmox.pbs`'s connection (see `components.proxmox.connection`)."""
    remotes: Mapping[str, Mapping[str, object]]
    """Remote name -> its connection (its admin token id; the secret is `credentials.pbs-remote-<name>`)."""
    keys: Mapping[str, pulumi.Output]
    """PBS destination -> secret Output {access_key_id, secret_access_key}: its writer key in the bucket."""


class PbsOffsite(pulumi.ComponentResource):
    """S3 endpoints and S3-backed datastores on `proxmox.pbs`; sync tokens and remotes for remote PBS servers."""

    ready: list[pulumi.Resource]
    """What the sync jobs need to exist first (datastores and remotes)."""

    def __init__(self, name: str, args: PbsOffsiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:proxmox:PbsOffsite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Not protected: what holds the backups is the bucket and its key (protected in components/buckets.py).
        # Removing the PBS configuration keeps the data in the bucket, and `up` re-attaches it (reuse-datastore).
        self.ready = []
        for store in args.plan.s3:
            key = args.keys[store.destination]
            endpoint = S3Endpoint(
                f"{name}-{store.destination}-s3", connection=args.pbs, credentials_entry=PBS_CREDENTIAL,
                endpoint_id=store.client_id, endpoint=store.endpoint, port=store.port, region=store.region,
                path_style=store.path_style or None, provider_quirks=",".join(store.provider_quirks) or None,
                access_key=key.apply(lambda k: k["access_key_id"]),
                secret_key=key.apply(lambda k: k["secret_access_key"]), context=store.destination, opts=child)
            self.ready.append(S3Datastore(
                f"{name}-{store.destination}-datastore", connection=args.pbs, credentials_entry=PBS_CREDENTIAL,
                datastore=store.datastore, cache_path=store.cache_path, endpoint_id=endpoint.job_id,
                bucket=store.bucket, comment=f"homelab-backups offsite copy in {store.bucket_destination}",
                context=store.destination, opts=child))
        for remote in args.plan.remotes:
            there = args.remotes[remote.name]
            entry = remote.server.credentials_entry
            token = SyncToken(f"{name}-{remote.name}-token", connection=there, credentials_entry=entry,
                              user=remote.user, token_name=remote.token, datastores=list(remote.datastores),
                              role=remote.role, comment="homelab-backups push sync from proxmox.pbs",
                              context=remote.name, opts=child)
            self.ready.append(Remote(
                f"{name}-{remote.name}-remote", connection=args.pbs, credentials_entry=PBS_CREDENTIAL,
                name=remote.name, host=remote.host, port=remote.port, auth_id=remote.auth_id,
                password=token.token_secret, fingerprint=remote.fingerprint, comment="homelab-backups offsite PBS",
                context=remote.name, opts=child))
            for store in (d for d in args.remote_datastores if d.server == remote.name):
                _datastore_jobs(name, store, there, entry, child)
        self.register_outputs({})


def _datastore_jobs(name: str, store: PbsDatastoreJobs, there: Mapping[str, object], entry: str,
                    child: pulumi.ResourceOptions) -> None:
    common = {"connection": there, "credentials_entry": entry, "context": store.destination, "opts": child}
    DatastoreGc(f"{name}-{store.destination}-gc", datastore=store.datastore, gc_schedule=store.gc_schedule, **common)
    if store.prune_id is not None and store.prune is not None and store.prune_schedule is not None:
        PruneJob(f"{name}-{store.destination}-prune", job_id=store.prune_id, store=store.datastore,
                 schedule=store.prune_schedule, keep=store.prune.levels(), comment="homelab-backups tier retention",
                 **common)
    if store.verify_id is not None and store.verify_schedule is not None:
        VerifyJob(f"{name}-{store.destination}-verify", job_id=store.verify_id, store=store.datastore,
                  schedule=store.verify_schedule, outdated_after=store.outdated_after_days, ignore_verified=True,
                  comment="homelab-backups verification cadence", **common)


def declare_pbs_offsite(pve: Proxmox, plan: PbsOffsitePlan, datastores: tuple[PbsDatastoreJobs, ...],
                        writer_keys: Mapping[str, pulumi.Output]) -> list[pulumi.Resource]:
    """The offsite PBS objects of the plan (nothing without any); what the sync jobs must wait for."""
    if pve.pbs is None or not (plan.s3 or plan.remotes):
        return []
    remotes = {r.name: connection(r) for r in pve.remotes}
    offsite = PbsOffsite("pbs-offsite", PbsOffsiteArgs(plan, tuple(d for d in datastores if d.server is not None),
                                                      connection(pve.pbs), remotes, writer_keys))
    return offsite.ready
