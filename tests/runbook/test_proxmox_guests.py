"""Guest groups in the runbook contract's `datasets` (version 5), on the second example stack (Pulumi.pve.yaml):
each group with its tier, copies, RPO, restore procedure and drill, valid against the v5 schema; v4 readers are
refused by version, not misled."""

from __future__ import annotations

import json

import pytest
import yaml

from inventory import load_inventory
from plan import build_plan
from runbook.contract import runbook_contract
from runbook.outputs import OutputsError, validate
from runbook.render import render
from tests.components.harness import ROOT


@pytest.fixture(scope="module")
def contract():
    raw = yaml.safe_load((ROOT / "Pulumi.pve.yaml").read_text())["config"]
    inv = load_inventory({k.split(":", 1)[1]: v for k, v in raw.items()})
    return runbook_contract(inv, build_plan(inv))


def test_every_guest_group_is_a_dataset_and_the_outputs_validate(contract):
    datasets = contract["datasets"]
    assert {"infra", "apps", "lab", "nextcloud"} <= set(datasets)
    assert {n: d["source"] for n, d in datasets.items() if d["source"] == "proxmox"} == {
        "infra": "proxmox", "apps": "proxmox", "lab": "proxmox"}
    assert validate({"runbook": contract}) is contract
    assert sorted(contract["tiers"]) == ["1", "2", "3"]


def test_a_tier_one_group_carries_copies_rpo_drill_and_its_jobs(contract):
    infra = contract["datasets"]["infra"]
    assert (infra["tier"], infra["copies_total"], infra["offsite_copies"], infra["rpo_target_hours"]) == (1, 4, 1, 12)
    assert infra["rpo_hours"] <= 12
    assert [(c["destination"], c["kind"], c["tool"]) for c in infra["copies"]] == [
        ("nas-vzdump", "pve-storage", "vzdump"), ("pbs-local", "pbs", "vzdump"), ("pbs-offsite", "pbs", "vzdump")]
    assert infra["verification"] == {"check_every_days": 7, "drill_every_days": 30, "drilled_copy": "nas-vzdump"}
    nas = infra["copies"][0]
    assert nas["healthcheck"]["drill"] == "backup-infra-nas-vzdump-drill"
    assert "backup" not in nas["healthcheck"], "PVE jobs report through PVE's notifications, never a slug"
    assert all("healthcheck" not in c for c in infra["copies"][1:])
    details = infra["proxmox"]
    assert details["jobs"]["nas-vzdump"]["id"] == "hlb-infra-nas-vzdump"
    assert details["syncs"] == {"pbs-offsite": "hlb-pbs-offsite"}
    assert details["drill"] == {"cronjob": "infra-nas-vzdump-drill", "node": "pve1", "scratch_vmid": 990000,
                                "pool": "hlb-drill", "storage": "local-lvm", "reads_storage": "truenas-backups"}


def test_restore_steps_restore_beside_the_original_and_bring_back_the_offsite_sync(contract):
    steps = contract["datasets"]["infra"]["restore"]
    commands = [s.get("command", "") for s in steps]
    assert commands[0] == "pvesm list truenas-backups --content backup --vmid <vmid>"
    assert "--unique 1" in commands[1] and "pct restore" in commands[1]
    assert "link_down=1" in commands[2]
    assert steps[-1]["title"] == "Site loss: bring back pbs-offsite"
    assert commands[-1] == "proxmox-backup-manager pull <remote of offsite-s3> offsite-s3 tank"
    lab = contract["datasets"]["lab"]
    assert "drill" not in lab["proxmox"] and lab["verification"]["drill_every_days"] == 0
    assert not any(s["title"].startswith("Site loss") for s in lab["restore"])


def test_a_version_4_reader_refuses_the_contract_by_version(contract):
    with pytest.raises(OutputsError, match="version '4'"):
        validate({"runbook": {**json.loads(json.dumps(contract)), "version": "4"}})


def test_the_markdown_runbooks_cover_the_guest_groups(contract):
    pages = render({"runbook": contract})
    (infra,) = [text for name, text in pages.items() if name.startswith("infra")]
    assert "qmrestore" in infra and "`pve://truenas-backups` (vzdump backups" in infra
    assert any(name.startswith("lab") for name in pages)


def test_status_says_where_vzdump_runs_are_reported(contract):
    import datetime as dt

    from runbook.status import VZDUMP_UNWATCHED, copy_status

    infra = contract["datasets"]["infra"]
    row = copy_status("infra", infra, infra["copies"][1], {}, dt.datetime.now(dt.UTC), lambda c: (None, "n/a"))
    assert row.check == VZDUMP_UNWATCHED


def test_a_non_vzdump_copy_without_a_backup_slug_breaks_the_contract(contract):
    broken = json.loads(json.dumps(contract))
    nextcloud = broken["datasets"]["nextcloud"]["copies"][0]
    del nextcloud["healthcheck"]["backup"]
    with pytest.raises(OutputsError, match="datasets.nextcloud.copies.0"):
        validate({"runbook": broken})


def test_the_read_only_drill_command_points_guest_groups_to_their_drill(contract):
    from runbook.drill import DrillUsageError, choose_copy

    with pytest.raises(DrillUsageError, match="infra is a Proxmox guest group: PVE restores its vzdump archives; its "
                                              "scheduled drill is CronJob infra-nas-vzdump-drill"):
        choose_copy(contract, "infra", None)
    with pytest.raises(DrillUsageError, match=r"no drill is scheduled \(add proxmox.drill\)"):
        choose_copy(contract, "lab", None)
