"""The `proxmox` section: guests by tier, PVE storages and PBS datastores, and each bad input with its own message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inventory import load_inventory
from inventory.proxmox import PbsDestination
from tests.inventory.problems import problems
from tests.proxmox_estate import PROXMOX


@pytest.fixture
def pve_estate(estate: dict[str, Any]) -> dict[str, Any]:
    """The base estate plus a two-node cluster with the seed notes' NAS share and a PBS synced offsite."""
    return {**estate, "proxmox": copy.deepcopy(PROXMOX)}


def test_the_seed_estate_loads_with_defaults_resolved(pve_estate):
    inv = load_inventory(pve_estate)
    pve = inv.proxmox
    assert pve is not None
    infra = pve.guests[0]
    assert [d.name for d in pve.destinations_of(infra)] == ["nas-vzdump", "pbs-local", "pbs-offsite"]
    assert [d.name for d in pve.destinations_of(pve.guests[1])] == ["nas-vzdump"]
    assert isinstance(pve.destination("pbs-offsite"), PbsDestination)
    assert pve.guests[1].selector == "all guests except 100, 101, 200"


def test_unknown_node_names_the_nodes(pve_estate):
    pve_estate["proxmox"]["guests"][0]["node"] = "pve3"
    assert problems(pve_estate) == [("proxmox.guests[0].node", "rule", "unknown node 'pve3'; the cluster's nodes "
                                     "are ['pve1', 'pve2'] (proxmox.nodes)")]


def test_a_vm_in_two_tiers_is_refused_where_it_is_listed_again(pve_estate):
    pve_estate["proxmox"]["guests"][2]["vmids"] = [200, 101]
    assert problems(pve_estate) == [("proxmox.guests[2].vmids[1]", "rule", "VM 101 is already in guests[0] ('infra', "
                                     "tier 1); a guest has one tier: remove it here or there")]


def test_an_all_selector_covering_a_listed_vm_names_the_exclude_to_add(pve_estate):
    pve_estate["proxmox"]["guests"][1]["exclude"] = [100, 101]
    assert problems(pve_estate) == [("proxmox.guests[2].vmids[0]", "rule", "VM 200 is also covered by guests[1] "
                                     "('lab', all guests, tier 3); a guest has one tier: add 200 to "
                                     "proxmox.guests[1].exclude")]


def test_offsite_pbs_datastore_without_a_sync_job_is_refused(pve_estate):
    pve_estate["proxmox"]["destinations"][2] = {"name": "pbs-offsite", "kind": "pbs", "datastore": "offsite",
                                                "storage": "pbs-offsite", "offsite": True}
    ((path, kind, message),) = problems(pve_estate)
    assert (path, kind) == ("proxmox.guests[0].destinations[2]", "rule")
    assert message.startswith("PBS datastore 'pbs-offsite' is used as an offsite copy but no sync job fills it")
    assert "set sync_from on it to the local pbs destination" in message


def test_sync_source_the_guests_do_not_write_is_refused(pve_estate):
    pve_estate["proxmox"]["guests"][0]["destinations"] = ["nas-vzdump", "pbs-offsite"]
    assert problems(pve_estate) == [("proxmox.guests[0].destinations[1]", "rule", "'pbs-offsite' is filled by a sync "
                                     "job from 'pbs-local', which these guests do not write to; add 'pbs-local' to "
                                     "their destinations")]


@pytest.mark.parametrize(("schedule", "why"), [
    ("25:00", "hour '25' is outside 0..23"),
    ("daily at 9", "weekday 'daily' is not one of mon, tue, wed, thu, fri, sat, sun (or a range like mon..fri)"),
    ("mon..fri 02:60", "minute '60' is outside 0..59"),
    ("21:00 mon", "weekday 'mon' must come first"),
])
def test_a_schedule_pve_cannot_parse_says_why(pve_estate, schedule, why):
    pve_estate["proxmox"]["guests"][2]["schedule"] = schedule
    assert problems(pve_estate) == [("proxmox.guests[2].schedule", "rule", f"PVE cannot parse {schedule!r} as a "
                                     f"calendar event: {why}; write e.g. '21:00', 'mon..fri 02:30' or "
                                     "'*-*-* 0/6:00'")]


def test_a_fixed_schedule_looser_than_the_rpo_is_refused(pve_estate):
    pve_estate["proxmox"]["guests"][2]["schedule"] = "sat 21:00"
    assert problems(pve_estate) == [("proxmox.guests[2].schedule", "rule", "'sat 21:00' runs at most every 168 h, "
                                     "looser than the tier 2 RPO of 24 h; run it at least that often")]


def test_an_untiered_all_selector_is_refused(pve_estate):
    del pve_estate["proxmox"]["guests"][1]["tier"]
    assert problems(pve_estate) == [("proxmox.guests[1].tier", "rule", "all: true selects every guest but no tier "
                                     "says what they are worth: set tier: 1, 2 or 3 (the tier of every guest it "
                                     "covers), or split them into one group per tier")]


def test_selectors_are_exclusive(pve_estate):
    pve_estate["proxmox"]["guests"][0]["pool"] = "infra"
    ((path, _, message),) = problems(pve_estate)
    assert path == "proxmox.guests[0]"
    assert "select guests one way: vmids (a list), pool, or all: true with exclude (here ['vmids', 'pool'])" in message


def test_tier_1_guests_need_an_offsite_copy(pve_estate):
    pve_estate["proxmox"]["guests"][0]["destinations"] = ["nas-vzdump", "pbs-local"]
    assert problems(pve_estate) == [("proxmox.guests[0].destinations", "rule", "tier 1 needs at least one offsite "
                                     "copy; add one of ['pbs-offsite']")]


def test_tls_off_needs_a_reason(pve_estate):
    pve_estate["proxmox"]["verify_tls"] = False
    ((path, kind, message),) = problems(pve_estate)
    assert (path, kind) == ("proxmox", "value_error")
    assert "verify_tls: false would send the API token to whoever answers on the network" in message


def test_the_token_secret_is_a_credential_not_inventory(pve_estate):
    pve_estate["proxmox"]["token_secret"] = "s3cret"
    ((path, kind, message),) = problems(pve_estate)
    assert (path, kind) == ("proxmox.token_secret", "extra_forbidden")
    assert "s3cret" not in message


def test_a_name_shared_with_a_dataset_is_refused(pve_estate):
    pve_estate["proxmox"]["guests"][0]["name"] = pve_estate["datasets"][0]["name"]
    found = problems(pve_estate)
    assert ("proxmox.guests[0].name", "rule", f"name {pve_estate['datasets'][0]['name']!r} is already used by a "
            "dataset, destination or another guest group; names must be unique") in found


def test_the_coverage_check_needs_healthchecks(pve_estate):
    pve_estate["proxmox"]["coverage_token_id"] = "audit@pve!coverage"
    pve_estate.pop("monitoring", None)
    assert ("proxmox.coverage_token_id", "rule", "the coverage check reports to Healthchecks: set "
            "monitoring.healthchecks.ping_base, or remove coverage_token_id") in problems(pve_estate)


def test_credentials_the_section_needs(pve_estate):
    pve_estate["proxmox"]["coverage_token_id"] = "audit@pve!coverage"
    pve_estate["monitoring"] = {"healthchecks": {"ping_base": "https://hc-ping.com/"}}
    pve = load_inventory(pve_estate).proxmox
    assert pve is not None
    assert pve.credentials() == [("proxmox", ("token_secret",)), ("pbs", ("token_secret",)),
                                 ("proxmox_audit", ("token_secret",)), ("pbs-remote-hetzner", ("token_secret",))]
