"""The `proxmox` output of the second example stack: per guest group its copies, calendar events, retention,
verification and the restore commands for each kind of copy."""

from __future__ import annotations

import json

import pytest
import yaml

from inventory import load_inventory
from plan import build_plan
from runbook.proxmox import proxmox_runbook
from tests.components.harness import ROOT


@pytest.fixture(scope="module")
def book():
    raw = yaml.safe_load((ROOT / "Pulumi.pve.yaml").read_text())["config"]
    inv = load_inventory({k.split(":", 1)[1]: v for k, v in raw.items()})
    plan = build_plan(inv).proxmox
    assert plan is not None
    return proxmox_runbook(inv, plan)


def test_each_group_lists_its_copies_with_events_and_retention(book):
    apps = book["guests"]["apps"]
    assert (apps["tier"], apps["selector"], apps["copies_total"]) == (2, "guests 200, 201, 202", 2)
    (copy,) = apps["copies"]
    assert (copy["job"], copy["calendar_event"], copy["storage"], copy["prune_backups"]) == (
        "hlb-apps-nas-vzdump", "21:00", "truenas-backups", "keep-daily=14,keep-weekly=4,keep-monthly=3")
    infra = book["guests"]["infra"]
    assert [c["destination"] for c in infra["copies"]] == ["nas-vzdump", "pbs-local", "pbs-offsite"]
    assert infra["offsite_copies"] == 1 and infra["copies"][2]["sync_job"] == "hlb-pbs-offsite"


def test_restore_commands_per_kind_of_copy(book):
    nas, local, offsite = (c["restore"] for c in book["guests"]["infra"]["copies"])
    assert "qmrestore truenas-backups:backup/vzdump-qemu-<vmid>-<timestamp>.vma.zst <vmid> --storage local-lvm" in nas
    assert "pct restore <vmid> pbs-tank:backup/ct/<vmid>/<timestamp> --storage local-lvm" in local
    assert offsite[0].startswith("# 'offsite-s3' keeps its chunks in bucket 'hlb-b2-tier1' (b2)")
    assert "qmrestore <a pbs storage pointing at offsite-s3>:backup/vm/<vmid>/<timestamp> <vmid> --storage " \
           "local-lvm" in offsite


def test_verification_cadence_and_pbs_jobs(book):
    verification = book["guests"]["infra"]["verification"]
    assert verification["every_days"] == 7
    assert verification["pbs_verify_jobs"] == ["hlb-pbs-local", "hlb-pbs-offsite"]
    assert book["guests"]["lab"]["verification"]["manual"] == "not required for this tier"
    assert book["pbs"]["pbs-offsite"]["prune"]["keep"] == "keep-daily=30,keep-monthly=12"
    assert book["coverage"]["healthcheck"] == "proxmox-coverage"


def test_no_secret_in_the_output(book):
    text = json.dumps(book)
    assert "token_secret" not in text and "SECRET" not in text


def test_the_scheduled_drill_is_named_where_the_tier_has_one(book):
    assert book["guests"]["infra"]["verification"]["scheduled_drill"] == {
        "cronjob": "infra-nas-vzdump-drill", "every_days": 30, "scratch_vmid": 990000,
        "healthcheck": "backup-infra-nas-vzdump-drill"}
    assert book["guests"]["apps"]["verification"]["scheduled_drill"] is None
