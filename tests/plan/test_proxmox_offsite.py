"""The offsite side of PBS in the plan: an S3-backed datastore's endpoint is a writer of its bucket (minted with the
other writers, scoped to the datastore's prefix, in the bucket of the most valuable tier stored there); a remote PBS
gets one sync token with DatastoreBackup on the datastores pushed there, and the datastore's jobs run there."""

from __future__ import annotations

import copy

import pytest

from inventory import load_inventory
from plan import build_plan
from plan.model import Writer
from plan.proxmox_offsite import client_id
from tests.proxmox_estate import PROXMOX


def _plan(estate, on_b2: bool):
    pve = copy.deepcopy(PROXMOX)
    if on_b2:
        offsite = pve["destinations"][2]
        del offsite["remote"]
        offsite["s3"] = "b2"
        pve["remotes"] = []
    return build_plan(load_inventory({**estate, "proxmox": pve}))


@pytest.fixture
def s3_plan(estate):
    return _plan(estate, on_b2=True)


@pytest.fixture
def remote_plan(estate):
    return _plan(estate, on_b2=False)


def test_the_s3_endpoint_is_a_writer_of_the_tier_1_bucket(s3_plan):
    (store,) = s3_plan.proxmox.offsite.s3
    assert (store.destination, store.datastore, store.client_id, store.bucket, store.bucket_key, store.writer_key) == (
        "pbs-offsite", "offsite", "hlb-pbs-offsite", "hlb-b2-tier1", "b2-tier1", "pbs-offsite-pbs")
    assert (store.endpoint, store.port, store.region, store.path_style, store.provider_quirks) == (
        "s3.us-east-005.backblazeb2.com", None, "us-east-005", False, ("skip-if-none-match-header",))
    assert store.cache_path == "/mnt/datastore/offsite"
    bucket = next(b for b in s3_plan.buckets if b.key == "b2-tier1")
    assert Writer("pbs-offsite-pbs", "pbs-offsite", "pbs", "offsite") in bucket.writers
    assert bucket.lock_days > 0  # tier 1 offsite on B2: the datastore's bucket is locked like every tier-1 copy
    (sync,) = s3_plan.proxmox.syncs
    assert (sync.store, sync.remote_store, sync.remote, sync.direction) == ("offsite", "tank", None, "pull")


def test_no_writer_without_an_s3_datastore(remote_plan):
    assert not [w for b in remote_plan.buckets for w in b.writers if w.tool == "pbs"]
    assert remote_plan.proxmox.offsite.s3 == ()


def test_a_remote_pbs_gets_a_sync_token_scoped_to_its_datastores(remote_plan):
    (remote,) = remote_plan.proxmox.offsite.remotes
    assert (remote.name, remote.host, remote.port, remote.datastores, remote.auth_id, remote.role) == (
        "hetzner", "pbs.offsite.example", 8007, ("offsite",), "hlb-sync@pbs!push", "DatastoreBackup")
    jobs = {d.destination: d for d in remote_plan.proxmox.datastores}
    assert (jobs["pbs-offsite"].server, jobs["pbs-local"].server) == ("hetzner", None)
    assert jobs["pbs-offsite"].prune_id == "hlb-pbs-offsite"


def test_endpoint_ids_stay_within_pbs_limits(estate):
    pve = copy.deepcopy(PROXMOX)
    long_name = "pbs-offsite-backblaze-us-east-primary"
    pve["destinations"][2] = {**pve["destinations"][2], "name": long_name}
    pve["guests"][0]["destinations"] = ["nas-vzdump", "pbs-local", long_name]
    dest = load_inventory({**estate, "proxmox": pve}).proxmox.destination(long_name)
    assert len(client_id(dest)) == 32 and client_id(dest).startswith("hlb-pbs-offsite-backbla")
