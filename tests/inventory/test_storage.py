"""A PVC on a class that cannot snapshot needs copy_method Direct, unless the inventory declares the class capable."""

from __future__ import annotations

import pytest

from inventory import load_inventory
from plan import build_plan
from runbook.contract import runbook_contract
from tests.inventory.problems import problems


@pytest.mark.parametrize("storage_class", ["local-path", "hostpath", "nfs-client", "nfs-subdir-external-provisioner"])
def test_known_snapshotless_class_with_snapshot_copy(estate, storage_class):
    estate["datasets"][0]["source"]["storage_class"] = storage_class
    assert problems(estate) == [("datasets[0].source.copy_method", "rule",
                                 f"Snapshot needs a CSI snapshot or clone, which storage class {storage_class!r} "
                                 "cannot make, so every backup would fail at run time; set copy_method: Direct "
                                 "(backups then read the live files: see the runbook's consistency note), or list the "
                                 "class under kubernetes.snapshot_classes if its driver can snapshot")]


def test_clone_needs_snapshots_too(estate):
    estate["datasets"][1]["source"] |= {"storage_class": "local-path", "copy_method": "Clone"}
    assert problems(estate) == [("datasets[1].source.copy_method", "rule",
                                 "Clone needs a CSI snapshot or clone, which storage class 'local-path' cannot make, "
                                 "so every backup would fail at run time; set copy_method: Direct (backups then read "
                                 "the live files: see the runbook's consistency note), or list the class under "
                                 "kubernetes.snapshot_classes if its driver can snapshot")]


def test_declared_snapshotless_class(estate):
    estate["kubernetes"] = {"snapshotless_classes": ["zfs-local"]}
    estate["datasets"][0]["source"]["storage_class"] = "zfs-local"
    assert problems(estate)[0][:2] == ("datasets[0].source.copy_method", "rule")


def test_class_in_both_lists(estate):
    estate["kubernetes"] = {"snapshotless_classes": ["zfs-local"], "snapshot_classes": ["zfs-local"]}
    assert problems(estate) == [("kubernetes.snapshot_classes[0]", "rule",
                                 "'zfs-local' is also listed under kubernetes.snapshotless_classes; keep it in one "
                                 "list")]


def test_declared_capable_class_keeps_snapshots(estate):
    estate["kubernetes"] = {"snapshot_classes": ["nfs-client"]}
    estate["datasets"][0]["source"]["storage_class"] = "nfs-client"
    assert load_inventory(estate).datasets[0].source.copy_method == "Snapshot"


def test_direct_copy_loads_and_the_runbook_warns(estate):
    estate["datasets"][0]["source"] |= {"storage_class": "local-path", "copy_method": "Direct"}
    inv = load_inventory(estate)
    steps = runbook_contract(inv, build_plan(inv))["datasets"]["vaultwarden"]["restore"]
    titles = [s["title"] for s in steps]
    assert "Expect a crash-consistent copy at best" in titles
    other = runbook_contract(inv, build_plan(inv))["datasets"]["grafana"]["restore"]
    assert "Expect a crash-consistent copy at best" not in [s["title"] for s in other]
