"""Restore-time estimates: size over the destination's restore bandwidth (declared, else the kind's default) plus
the tool overhead measured by the drills, per dataset and copy; shown in the runbooks next to the RTO."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import load_inventory
from inventory.models import Inventory
from plan import build_plan
from plan.restore import DEFAULT_RESTORE_MBPS, HOME_DOWNLINK_MBPS, TOOL_OVERHEAD_SECONDS, restore_hours, restore_mbps


def test_hours_are_size_over_bandwidth_plus_the_tools_overhead():
    # 1800 GB at 100 Mbit/s: 144,000 s of transfer, the "days" (1.7) for 1.8 TB over a home line.
    assert restore_hours(1800, 100, "cloudsync") == round((144_000 + TOOL_OVERHEAD_SECONDS["cloudsync"]) / 3600, 2)
    assert restore_hours(0.001, 1000, "pgbackrest") == round((0.008 + 16.0) / 3600, 2)


def test_bandwidth_defaults_per_kind_and_declared_values_win():
    assert restore_mbps("nfs", False) == DEFAULT_RESTORE_MBPS["nfs"] == 1000
    assert restore_mbps("b2", True) == HOME_DOWNLINK_MBPS
    assert restore_mbps("s3-compatible", False) == 1000, "an S3 server on the NAS is on the LAN"
    assert restore_mbps("s3-compatible", True) == HOME_DOWNLINK_MBPS
    assert restore_mbps("b2", True, 500) == 500


def _inventory(restore: dict[str, Any]) -> Inventory:
    return load_inventory({
        "destinations": [
            {"name": "nas", "kind": "nfs", "server": "10.0.0.2", "path": "/mnt/tank/backups"},
            {"name": "b2", "kind": "b2", "region": "us-east-005", **restore},
        ],
        "datasets": [{"name": "photos-app", "tier": 1, "size_gb": 1800, "rpo_hours": 12,
                      "source": {"kind": "pvc", "namespace": "photos", "claim": "library",
                                 "storage_class": "ceph-block", "capacity": "2Ti"}}],
    })


def test_plan_estimates_every_copy_from_its_destination():
    plan = build_plan(_inventory({}))
    copies = {c.destination: c for c in plan.dataset("photos-app").copies}
    assert copies["nas"].restore_mbps == 1000 and copies["b2"].restore_mbps == 100
    assert copies["b2"].restore_hours == restore_hours(1800, 100, "restic") == pytest.approx(40.0, abs=0.01)
    assert copies["nas"].restore_hours == pytest.approx(4.0, abs=0.01)
    declared = {c.destination: c for c in build_plan(_inventory({"restore_mbps": 1000})).dataset("photos-app").copies}
    assert declared["b2"].restore_hours == pytest.approx(4.0, abs=0.01)


def test_inventory_rejects_a_bandwidth_of_zero():
    with pytest.raises(Exception, match=r"destinations\[1\]\.restore_mbps"):
        _inventory({"restore_mbps": 0})
