"""The offsite PBS part of the `proxmox` output: the S3-backed datastore's bucket, endpoint and writer, how to attach
it to a fresh PBS; for a datastore on a remote PBS, the sync user and the pull that brings it back."""

from __future__ import annotations

import copy
import json

from inventory import load_inventory
from plan import build_plan
from runbook.proxmox import proxmox_runbook
from tests.proxmox_estate import PROXMOX


def _book(estate, on_b2: bool):
    pve = copy.deepcopy(PROXMOX)
    if on_b2:
        del pve["destinations"][2]["remote"]
        pve["destinations"][2]["s3"] = "b2"
        pve["remotes"] = []
    inv = load_inventory({**estate, "proxmox": pve})
    return proxmox_runbook(inv, build_plan(inv).proxmox)


def test_the_s3_datastore_is_found_and_reattached_from_the_runbook(estate):
    book = _book(estate, on_b2=True)
    assert book["offsite"]["s3"]["pbs-offsite"] == {
        "datastore": "offsite", "endpoint_id": "hlb-pbs-offsite", "bucket": "hlb-b2-tier1",
        "bucket_destination": "b2", "writer_key": "pbs-offsite-pbs", "cache_path": "/mnt/datastore/offsite"}
    restore = book["guests"]["infra"]["copies"][2]["restore"]
    assert "S3 endpoint 'hlb-pbs-offsite'" in restore[1]
    assert restore[2] == ("proxmox-backup-manager datastore create offsite /mnt/datastore/offsite --backend "
                          "type=s3,client=hlb-pbs-offsite,bucket=hlb-b2-tier1 --reuse-datastore true "
                          "--overwrite-in-use true")


def test_a_remote_datastore_is_pulled_back_before_the_restore(estate):
    book = _book(estate, on_b2=False)
    assert book["offsite"]["remotes"]["hetzner"] == {"host": "pbs.offsite.example:8007",
                                                     "auth_id": "hlb-sync@pbs!push", "role": "DatastoreBackup",
                                                     "datastores": ["offsite"]}
    restore = book["guests"]["infra"]["copies"][2]["restore"]
    assert restore[1] == "proxmox-backup-manager pull hetzner offsite tank"
    assert "token" not in json.dumps(book["offsite"]).replace("auth_id", "")
