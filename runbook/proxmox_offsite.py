"""The offsite PBS copy in the runbook: where an S3-backed datastore's bucket and endpoint are and how to attach it
to a fresh PBS, and how to pull a remote PBS's datastore back. Pure data from the plan; no secret (the endpoint's
key is the bucket writer's, in the stack's secret outputs; the sync token's value is in the state, encrypted)."""

from __future__ import annotations

from typing import Any

from inventory.proxmox import PbsDestination
from plan.proxmox import PbsSyncJob
from plan.proxmox_offsite import PbsOffsitePlan


def offsite_runbook(plan: PbsOffsitePlan) -> dict[str, Any]:
    """Per S3-backed datastore its endpoint and bucket; per remote PBS its host, sync user and datastores."""
    return {
        "s3": {s.destination: {"datastore": s.datastore, "endpoint_id": s.client_id, "bucket": s.bucket,
                               "bucket_destination": s.bucket_destination, "writer_key": s.writer_key,
                               "cache_path": s.cache_path} for s in plan.s3},
        "remotes": {r.name: {"host": f"{r.host}:{r.port}", "auth_id": r.auth_id, "role": r.role,
                             "datastores": list(r.datastores)} for r in plan.remotes},
    }


def offsite_restore(dest: PbsDestination, sync: PbsSyncJob, plan: PbsOffsitePlan) -> tuple[list[str], str]:
    """(steps, PVE storage to restore from) for a guest's copy in a synced datastore."""
    if dest.remote is not None:
        return [f"# the datastore {dest.datastore!r} is on the remote PBS {dest.remote!r} (pushed by sync job "
                f"{sync.id!r}); pull it back into {sync.store!r} first, on proxmox.pbs:",
                f"proxmox-backup-manager pull {dest.remote} {dest.datastore} {sync.store}"], \
            "<the pbs storage pointing at the local datastore>"
    store = next((s for s in plan.s3 if s.destination == dest.name), None)
    if store is None:
        return [f"# the datastore {dest.datastore!r} is on proxmox.pbs, filled by sync job {sync.id!r}: add it to "
                "PVE as a pbs storage and restore from there:"], f"<a pbs storage pointing at {dest.datastore}>"
    return [f"# {dest.datastore!r} keeps its chunks in bucket {store.bucket!r} ({store.bucket_destination}) under "
            f"the prefix {dest.datastore!r}; on proxmox.pbs add it to PVE as a pbs storage and restore from there.",
            "# If proxmox.pbs is lost for good: point proxmox.pbs.api_url at a fresh PBS, drop the lost host's PBS "
            "objects from the state (they cannot be read or updated there any more): `pulumi state delete` each URN "
            "of type homelab-backups:proxmox:S3Endpoint, S3Datastore, Remote, SyncJob, PruneJob, VerifyJob and "
            "DatastoreGc (`pulumi stack --show-urns`), then `pulumi up` (it adds "
            f"S3 endpoint {store.client_id!r} with writer {store.writer_key!r}'s key); the datastore's in-use marker "
            "still names the old host, so create it once by hand, never while the old host could run, and "
            "`pulumi up --refresh` after:",
            f"proxmox-backup-manager datastore create {dest.datastore} {store.cache_path} --backend "
            f"type=s3,client={store.client_id},bucket={store.bucket} --reuse-datastore true --overwrite-in-use true",
            f"proxmox-backup-manager datastore s3-refresh {dest.datastore}"], \
        f"<a pbs storage pointing at {dest.datastore}>"
