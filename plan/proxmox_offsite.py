"""The offsite side of PBS: S3 endpoints and S3-backed datastores on `proxmox.pbs`, and remote PBS servers with the
sync user that `proxmox.pbs` pushes with. One record per fact; pure (no Pulumi, no API calls).

- An S3-backed datastore gets its own S3 endpoint (`/config/s3`) whose key is a writer of the destination's bucket
  like every tool's (`<pbs destination>-pbs`), scoped to the datastore's prefix: PBS keeps an S3 datastore's objects
  under its name in the bucket, so several datastores share a bucket without sharing a key.
- A remote PBS gets, on that server, a user and token with DatastoreBackup on the datastores pushed there and nothing
  else (a push sync job needs exactly that on the target), and on `proxmox.pbs` the remote entry that signs in with
  the token.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from inventory.models import Inventory
from inventory.proxmox import PbsDestination, PbsRemote, Proxmox
from plan.model import Writer
from plan.names import bucket_key, writer_key

TOOL = "pbs"
"""The writer's tool (key `<pbs destination>-pbs` in its bucket)."""
SYNC_USER = "hlb-sync@pbs"
"""The user the program creates on a remote PBS for the push sync (realm `pbs`: no system account)."""
SYNC_TOKEN = "push"
SYNC_ROLE = "DatastoreBackup"
"""What a push sync job needs on the target datastore: create groups and snapshots it owns; no prune, no delete."""
PROVIDER_QUIRKS = {"b2": ("skip-if-none-match-header",)}
"""PBS's S3 client sends If-None-Match on uploads, which B2's S3 API refuses (PBS names the quirk)."""


@dataclass(frozen=True)
class PbsS3Store:
    """An S3-backed datastore on `proxmox.pbs` and the S3 endpoint (`/config/s3/{id}`) it writes through."""

    destination: str
    """The `pbs` destination."""
    datastore: str
    cache_path: str
    """The local cache directory PBS requires for an S3 datastore."""
    client_id: str
    """The S3 endpoint's id on PBS (3 to 32 characters)."""
    bucket_destination: str
    bucket: str
    bucket_key: str
    """`BucketPlan.key` of the bucket, whose `writer_credentials[writer_key]` is the endpoint's key."""
    writer_key: str
    endpoint: str
    """Host only, as PBS takes it (`s3.us-east-005.backblazeb2.com`)."""
    port: int | None
    region: str
    path_style: bool
    provider_quirks: tuple[str, ...]


@dataclass(frozen=True)
class PbsRemoteAccess:
    """A remote PBS: the sync user and token the program creates there, and the remote entry on `proxmox.pbs`."""

    name: str
    """The remote's id on `proxmox.pbs`."""
    server: PbsRemote
    host: str
    port: int
    fingerprint: str | None
    datastores: tuple[str, ...]
    """The datastores on the remote that `proxmox.pbs` pushes to: the token's ACL paths."""
    user: str = SYNC_USER
    token: str = SYNC_TOKEN
    role: str = SYNC_ROLE

    @property
    def auth_id(self) -> str:
        """The token id the remote entry signs in with."""
        return f"{self.user}!{self.token}"


@dataclass(frozen=True)
class PbsOffsitePlan:
    """Everything the program declares for offsite PBS copies."""

    s3: tuple[PbsS3Store, ...]
    """S3-backed datastores on `proxmox.pbs`, one S3 endpoint each."""
    remotes: tuple[PbsRemoteAccess, ...]
    """Remote PBS servers some datastore is pushed to (declared but unused remotes are left out)."""


def bucket_tier(pve: Proxmox, dest: PbsDestination) -> int:
    """The tier whose bucket backs an S3 datastore: the most valuable tier stored there (its lock and lifecycle)."""
    return min((g.tier or 3 for g in pve.guests if dest in pve.destinations_of(g)), default=3)


def client_id(dest: PbsDestination) -> str:
    """The S3 endpoint's id: `hlb-<destination>`, shortened with a digest to PBS's 32 characters."""
    name = f"hlb-{dest.name}"
    return name if len(name) <= 32 else f"{name[:23]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def pbs_writers(inv: Inventory) -> Iterator[tuple[str, int, Writer]]:
    """(bucket destination, tier, writer) of every S3-backed datastore: minted with the bucket's other writers."""
    pve = getattr(inv, "proxmox", None)
    if pve is None:
        return
    for dest in pve.destinations:
        if isinstance(dest, PbsDestination) and dest.s3 is not None:
            yield dest.s3, bucket_tier(pve, dest), Writer(writer_key(dest.name, TOOL), dest.name, TOOL, dest.datastore)


def build_offsite_plan(inv: Inventory) -> PbsOffsitePlan:
    """The S3 stores and remotes of the `proxmox` section (empty without one)."""
    pve = getattr(inv, "proxmox", None)
    if pve is None:
        return PbsOffsitePlan((), ())
    stores = []
    for dest in pve.destinations:
        if not isinstance(dest, PbsDestination) or dest.s3 is None:
            continue
        backing = inv.destination(dest.s3)
        url = urllib.parse.urlsplit(backing.endpoint)
        tier = bucket_tier(pve, dest)
        stores.append(PbsS3Store(
            destination=dest.name, datastore=dest.datastore,
            cache_path=dest.cache_path or f"/mnt/datastore/{dest.datastore}", client_id=client_id(dest),
            bucket_destination=backing.name, bucket=backing.bucket_for(tier), bucket_key=bucket_key(backing.name, tier),
            writer_key=writer_key(dest.name, TOOL), endpoint=url.hostname or "", port=url.port,
            region=backing.region, path_style=backing.kind == "s3-compatible",
            provider_quirks=PROVIDER_QUIRKS.get(backing.kind, ())))
    remotes = []
    for remote in pve.remotes:
        stores_there = tuple(sorted(d.datastore for d in pve.destinations
                                    if isinstance(d, PbsDestination) and d.remote == remote.name))
        if not stores_there:
            continue
        url = urllib.parse.urlsplit(remote.api_url)
        remotes.append(PbsRemoteAccess(name=remote.name, server=remote, host=url.hostname or "",
                                       port=url.port or 8007, fingerprint=remote.fingerprint,
                                       datastores=stores_there))
    return PbsOffsitePlan(tuple(stores), tuple(remotes))
