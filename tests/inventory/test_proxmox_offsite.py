"""Where an offsite PBS datastore lives: S3-backed on one of the inventory's object-storage destinations, or on a
declared remote PBS; each bad input with the field path and the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inventory import load_inventory
from tests.inventory.problems import problems
from tests.proxmox_estate import PROXMOX

FINGERPRINT = ":".join(["ab"] * 32)


@pytest.fixture
def pve_estate(estate: dict[str, Any]) -> dict[str, Any]:
    return {**estate, "proxmox": copy.deepcopy(PROXMOX)}


def _offsite(raw: dict[str, Any]) -> dict[str, Any]:
    return raw["proxmox"]["destinations"][2]


def _on_b2(raw: dict[str, Any]) -> dict[str, Any]:
    offsite = _offsite(raw)
    del offsite["remote"]
    offsite["s3"] = "b2"
    raw["proxmox"]["remotes"] = []
    return raw


def test_an_s3_backed_datastore_on_b2_loads(pve_estate):
    pve = load_inventory(_on_b2(pve_estate)).proxmox
    assert pve is not None and pve.destination("pbs-offsite").s3 == "b2"
    assert ("pbs-remote-hetzner", ("token_secret",)) not in pve.credentials()


@pytest.mark.parametrize(("bucket", "what"), [("nowhere", "unknown destination"), ("nas", "a nfs destination")])
def test_the_bucket_must_be_an_object_storage_destination(pve_estate, bucket, what):
    _offsite(_on_b2(pve_estate))["s3"] = bucket
    assert problems(pve_estate) == [("proxmox.destinations[2].s3", "rule", f"{bucket!r} is {what}; an S3-backed "
                                     "datastore's bucket is one of the object-storage destinations: name one of "
                                     "['b2', 'r2'] (top-level destinations of kind b2, s3, r2, s3-compatible)")]


def test_an_offsite_bucket_makes_the_datastore_offsite(pve_estate):
    offsite = _offsite(_on_b2(pve_estate))
    offsite["offsite"] = False
    offsite["sync_from"] = "pbs-local"
    pve_estate["proxmox"]["guests"][0]["destinations"] = ["nas-vzdump", "pbs-local"]
    assert ("proxmox.destinations[2].s3", "rule", "'b2' is offsite object storage, so this datastore is too: set "
            "offsite: true and media: object-storage") in problems(pve_estate)


def test_s3_and_remote_together_are_refused(pve_estate):
    _offsite(pve_estate)["s3"] = "b2"
    ((path, kind, message),) = problems(pve_estate)
    assert (path, kind) == ("proxmox.destinations[2]", "value_error")
    assert "either S3-backed on proxmox.pbs (s3) or on a remote PBS (remote), not both" in message


def test_an_undeclared_remote_gets_the_migration_message(pve_estate):
    pve_estate["proxmox"]["remotes"] = []
    ((path, kind, message),) = problems(pve_estate)
    assert (path, kind) == ("proxmox.destinations[2].remote", "rule")
    assert message.startswith("remote 'hetzner' is not declared under proxmox.remotes: the program now declares the "
                              "remote and its sync token itself. Add {name: hetzner, api_url: https://<offsite pbs>")
    assert "then delete the hand-made remote 'hetzner' on proxmox.pbs" in message


def test_a_remote_without_its_admin_token_is_refused(pve_estate):
    del pve_estate["proxmox"]["remotes"][0]["token_id"]
    assert [(p, k) for p, k, _ in problems(pve_estate)] == [("proxmox.remotes[0].token_id", "missing")]


def test_a_remote_behind_a_private_ca_needs_its_fingerprint(pve_estate):
    pve_estate["proxmox"]["remotes"][0]["ca_file"] = "/etc/ssl/offsite-ca.pem"
    assert problems(pve_estate) == [("proxmox.remotes[0].fingerprint", "rule", "proxmox.pbs checks a remote's "
                                     "certificate against the public CAs or a pinned fingerprint, and this one is "
                                     "signed by a private CA (ca_file) or not verified: set fingerprint to what "
                                     "`proxmox-backup-manager cert info` prints on the remote")]
    pve_estate["proxmox"]["remotes"][0]["fingerprint"] = FINGERPRINT
    assert load_inventory(pve_estate).proxmox.remotes[0].fingerprint == FINGERPRINT


def test_remote_names_are_unique(pve_estate):
    remotes = pve_estate["proxmox"]["remotes"]
    remotes.append({**remotes[0], "api_url": "https://other.example:8007"})
    assert problems(pve_estate) == [("proxmox.remotes[1].name", "rule", "remote 'hetzner' is already "
                                     "proxmox.remotes[0]; names must be unique")]


def test_remote_names_follow_pbs_rules(pve_estate):
    pve_estate["proxmox"]["remotes"][0]["name"] = "x"
    assert problems(pve_estate)[0][:2] == ("proxmox.remotes[0].name", "string_too_short")


def test_the_local_pbs_is_not_a_remote(pve_estate):
    pve_estate["proxmox"]["remotes"][0]["api_url"] = PROXMOX["pbs"]["api_url"]
    assert problems(pve_estate) == [("proxmox.remotes[0].api_url", "rule", "https://pbs.lan:8007 is proxmox.pbs "
                                     "itself; a datastore there needs no remote: remove remote from its destination "
                                     "and this entry")]


def test_sync_chains_cannot_loop(pve_estate):
    """A datastore filled from one that is itself synced (the start of a loop) is refused where it is named."""
    pve_estate["proxmox"]["destinations"].append({"name": "pbs-third", "kind": "pbs", "datastore": "third",
                                                  "sync_from": "pbs-offsite", "offsite": True,
                                                  "media": "object-storage", "s3": "b2"})
    _offsite(pve_estate)["sync_from"] = "pbs-offsite"
    found = [(p, m) for p, _, m in problems(pve_estate) if p.endswith("sync_from")]
    assert found == [
        ("proxmox.destinations[2].sync_from", "'pbs-offsite' is not another pbs destination; a sync job copies "
         "between PBS datastores: name one of ['pbs-local', 'pbs-third']"),
        ("proxmox.destinations[3].sync_from", "'pbs-offsite' is itself filled by a sync job; sync from the datastore "
         "vzdump writes ('pbs-offsite' or the one it syncs from)")]


def test_cache_path_without_s3_is_refused(pve_estate):
    _offsite(pve_estate)["cache_path"] = "/mnt/cache"
    ((path, _, message),) = problems(pve_estate)
    assert path == "proxmox.destinations[2]" and "cache_path only applies to an S3-backed datastore" in message
