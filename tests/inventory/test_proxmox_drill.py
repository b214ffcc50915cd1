"""`proxmox.drill`: the guest restore drill's scratch space and token, with defaults and each bad input's message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inventory import load_inventory
from tests.inventory.problems import problems
from tests.proxmox_estate import PROXMOX


@pytest.fixture
def pve_estate(estate: dict[str, Any]) -> dict[str, Any]:
    """The base estate plus the seed cluster with a drill token."""
    return {**estate, "proxmox": {**copy.deepcopy(PROXMOX), "drill": {"token_id": "drill@pve!restore"}}}


def test_defaults_and_the_separate_credential(pve_estate):
    pve = load_inventory(pve_estate).proxmox
    assert pve is not None and pve.drill is not None
    drill = pve.drill
    assert (drill.node, drill.pool, drill.storage, drill.vmid_first, drill.vmid_last, drill.timeout_minutes) == (
        None, "hlb-drill", "local-lvm", 990_000, 990_099, 240)
    assert ("proxmox_drill", ("token_secret",)) in pve.credentials()


def test_no_drill_section_asks_for_no_drill_credential(estate):
    pve = load_inventory({**estate, "proxmox": copy.deepcopy(PROXMOX)}).proxmox
    assert pve is not None and pve.drill is None
    assert "proxmox_drill" not in dict(pve.credentials())


def test_a_protected_guest_inside_the_scratch_range_is_refused_where_it_is_listed(pve_estate):
    pve_estate["proxmox"]["drill"] |= {"vmid_first": 200, "vmid_last": 299}
    assert problems(pve_estate) == [
        ("proxmox.guests[1].exclude[2]", "rule", "VM 200 is inside the drill's scratch range 200..299, where drills "
         "restore and then destroy guests; move the range (proxmox.drill.vmid_first/vmid_last) clear of every real "
         "guest"),
        ("proxmox.guests[2].vmids[0]", "rule", "VM 200 is inside the drill's scratch range 200..299, where drills "
         "restore and then destroy guests; move the range (proxmox.drill.vmid_first/vmid_last) clear of every real "
         "guest")]


def test_unknown_node_pool_of_protected_guests_and_a_reversed_range(pve_estate):
    pve_estate["proxmox"]["drill"] |= {"node": "pve9"}
    assert problems(pve_estate) == [("proxmox.drill.node", "rule", "unknown node 'pve9'; the cluster's nodes are "
                                     "['pve1', 'pve2'] (proxmox.nodes)")]
    pve_estate["proxmox"]["drill"] = {"token_id": "drill@pve!restore", "pool": "media"}
    pve_estate["proxmox"]["guests"][2] = {**pve_estate["proxmox"]["guests"][2], "pool": "media"}
    del pve_estate["proxmox"]["guests"][2]["vmids"]
    pve_estate["proxmox"]["guests"][1] = {**pve_estate["proxmox"]["guests"][1], "vmids": [300]}
    del pve_estate["proxmox"]["guests"][1]["all"], pve_estate["proxmox"]["guests"][1]["exclude"]
    assert problems(pve_estate) == [("proxmox.drill.pool", "rule", "pool 'media' holds protected guests (a guest "
                                     "group selects it); the scratch pool must hold only drill guests: name a pool "
                                     "of its own")]


def test_a_range_too_small_for_the_drilled_groups(pve_estate):
    pve_estate["tiers"] = {"2": {"rpo_hours": 24, "offsite_rpo_hours": 24, "local_retention": {"daily": 14,
                                 "weekly": 4, "monthly": 3}, "offsite_retention": {"daily": 14},
                                 "verify_every_days": 30, "drill_every_days": 30,
                                 "alerts": ["out-of-sync"]}}
    pve_estate["proxmox"]["drill"] |= {"vmid_first": 990_000, "vmid_last": 990_000}
    assert problems(pve_estate) == [("proxmox.drill.vmid_last", "rule", "2 guest groups are drilled (['infra', "
                                     "'media-ct']) but the scratch range holds 1 ids; widen it to at least 2")]


def test_a_reversed_range_and_a_bad_token_id_are_field_errors(pve_estate):
    pve_estate["proxmox"]["drill"] |= {"vmid_first": 990_100}
    ((path, _, message),) = problems(pve_estate)
    assert path == "proxmox.drill" and "vmid_first 990100 is above vmid_last 990099" in message
    pve_estate["proxmox"]["drill"] = {"token_id": "drill"}
    assert [p[0] for p in problems(pve_estate)] == ["proxmox.drill.token_id"]
