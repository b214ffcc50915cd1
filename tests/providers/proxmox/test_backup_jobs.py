"""The PVE backup-job provider's whole contract against the stand-in: check, create, read (UI edits and deletions),
diff, update in place (selector switched with `delete`), delete, and PVE's refusals as messages."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from providers.proxmox.backup_jobs import BackupJobProvider
from providers.proxmox.service import ProxmoxResourceError


@pytest.fixture
def inputs(pve_connection: dict[str, Any], tokens: None) -> dict[str, Any]:
    return {"connection": pve_connection, "credentials_entry": "proxmox", "job_id": "hlb-infra-nas-vzdump",
            "schedule": "21:00", "storage": "truenas-backups", "vmid": "100,101", "node": "pve1", "mode": "snapshot",
            "compress": "zstd", "prune_backups": "keep-last=14", "notes_template": "{{guestname}} ({{vmid}})",
            "notification_mode": "notification-system", "enabled": True, "repeat_missed": True,
            "comment": "homelab-backups infra tier 1", "tier": 1, "context": "infra"}


@pytest.fixture
def created(inputs, pve):
    provider = BackupJobProvider()
    checked = provider.check({}, inputs)
    assert checked.failures == []
    result = provider.create(checked.inputs)
    yield provider, result
    pve.jobs.pop(result.id, None)


def test_check_names_every_bad_field(inputs):
    bad = {**inputs, "schedule": "25:00", "enabled": "yes", "pool": "media"}
    del bad["storage"]
    failures = {f.property: f.reason for f in BackupJobProvider().check({}, bad).failures}
    assert failures == {
        "storage": "required: the storage",
        "schedule": "'25:00' is not a calendar event PVE/PBS can parse: hour '25' is outside 0..23; write e.g. "
                    "'21:00' or 'mon..fri 02:30'",
        "enabled": "must be true or false",
        "vmid": "select guests one way: vmid (a list), pool or all (here ['vmid', 'pool'])",
    }


def test_check_lets_unknowns_through_and_fills_pve_defaults(inputs):
    result = BackupJobProvider().check({}, {**inputs, "schedule": Unknown(), "mode": None, "enabled": None})
    assert result.failures == []
    assert (result.inputs["mode"], result.inputs["enabled"], result.inputs["all"]) == ("snapshot", True, False)
    assert "token" not in result.inputs


def test_create_writes_the_job_as_pve_stores_it_and_keeps_the_token_out(created, pve):
    _, result = created
    assert result.id == "hlb-infra-nas-vzdump"
    assert pve.jobs[result.id] == {
        "enabled": 1, "schedule": "21:00", "storage": "truenas-backups", "vmid": "100,101", "all": 0, "node": "pve1",
        "mode": "snapshot", "compress": "zstd", "prune-backups": "keep-last=14",
        "notes-template": "{{guestname}} ({{vmid}})", "notification-mode": "notification-system",
        "repeat-missed": 1, "comment": "homelab-backups infra tier 1"}
    assert "token" not in result.outs and pve.token_secret not in str(result.outs)
    assert result.outs["credentials_entry"] == "proxmox"


def test_read_finds_a_ui_edit_and_update_converges_it(created, pve, inputs):
    provider, result = created
    pve.edit("backup", result.id, schedule="sat 03:00", enabled=0, prune_backups="keep-last=3")
    read = provider.read(result.id, result.outs)
    assert (read.inputs["schedule"], read.inputs["enabled"], read.inputs["prune_backups"]) == (
        "sat 03:00", False, "keep-last=3")
    wanted = provider.check(read.inputs, inputs).inputs
    diff = provider.diff(result.id, read.inputs, wanted)
    assert diff.changes and diff.replaces == []
    provider.update(result.id, read.outs, wanted)
    assert (pve.jobs[result.id]["schedule"], pve.jobs[result.id]["enabled"], pve.jobs[result.id]["prune-backups"]) == (
        "21:00", 1, "keep-last=14")
    again = provider.read(result.id, result.outs)
    assert not provider.diff(result.id, again.inputs, wanted).changes


def test_switching_the_selector_clears_the_old_one(created, pve, inputs):
    provider, result = created
    wanted = provider.check(result.outs, {**inputs, "vmid": None, "pool": "media", "node": None}).inputs
    provider.update(result.id, result.outs, wanted)
    job = pve.jobs[result.id]
    assert (job.get("pool"), "vmid" in job, "node" in job) == ("media", False, False)
    assert pve.requests[-1][2]["delete"] == "vmid,exclude,node"


def test_a_new_id_replaces_the_job(created, inputs):
    provider, result = created
    diff = provider.diff(result.id, result.outs, {**result.outs, "job_id": "hlb-other"})
    assert diff.replaces == ["job_id"] and diff.delete_before_replace


def test_a_job_deleted_in_the_ui_reads_as_gone_and_delete_tolerates_it(created, pve):
    provider, result = created
    pve.remove("backup", result.id)
    assert provider.read(result.id, result.outs).id is None
    provider.delete(result.id, result.outs)


def test_delete_removes_the_job(created, pve):
    provider, result = created
    provider.delete(result.id, result.outs)
    assert result.id not in pve.jobs


def test_pve_refusals_name_the_job_the_cause_and_the_fix(inputs, pve):
    provider = BackupJobProvider()
    checked = provider.check({}, {**inputs, "storage": "no-such-storage"}).inputs
    with pytest.raises(ProxmoxResourceError) as caught:
        provider.create(checked)
    assert str(caught.value) == ("infra: PVE backup job 'hlb-infra-nas-vzdump': create failed: HTTP 500 storage "
                                 "'no-such-storage' does not exist; fix the value named above (compare with "
                                 "Datacenter > Backup in the web UI)")
    assert "hlb-infra-nas-vzdump" not in pve.jobs


def test_pve_schema_validation_reaches_the_message(inputs, pve):
    """A value only PVE's own schema refuses (fakepve validates it as PVE does)."""
    provider = BackupJobProvider()
    checked = provider.check({}, {**inputs, "notification_mode": "email"}).inputs
    with pytest.raises(ProxmoxResourceError) as caught:
        provider.create(checked)
    assert ("HTTP 400 Parameter verification failed.: notification-mode: value 'email' does not have a value in the "
            "enumeration 'auto, legacy-sendmail, notification-system'") in str(caught.value)


def test_an_injected_server_failure_on_update_is_reported(created, pve, inputs):
    provider, result = created
    pve.fail_next("PUT", "/cluster/backup/", 500, "cfs-lock 'file-jobs_cfg' error: got lock request timeout")
    with pytest.raises(ProxmoxResourceError, match="update failed: HTTP 500 cfs-lock 'file-jobs_cfg' error"):
        provider.update(result.id, result.outs, {**result.outs, "schedule": "22:00"})


def test_a_wrong_token_names_the_credential_to_fix(inputs, monkeypatch):
    monkeypatch.setenv("HLB_PROXMOX_TOKEN_SECRET", "wrong")
    provider = BackupJobProvider()
    with pytest.raises(ProxmoxResourceError) as caught:
        provider.create(provider.check({}, inputs).inputs)
    assert "HTTP 401" in str(caught.value)
    assert "credentials.proxmox.token_secret is its secret" in str(caught.value)


def test_a_missing_token_is_a_check_failure_with_the_command(inputs, monkeypatch):
    monkeypatch.delenv("HLB_PROXMOX_TOKEN_SECRET")
    (failure,) = BackupJobProvider().check({}, inputs).failures
    assert failure.property == "credentials_entry"
    assert "pulumi config set --secret --path 'credentials.proxmox.token_secret'" in failure.reason


def test_an_unknown_ca_is_a_tls_message(inputs):
    provider = BackupJobProvider()
    checked = provider.check({}, {**inputs, "connection": {**inputs["connection"], "ca_file": None}}).inputs
    with pytest.raises(ProxmoxResourceError, match="TLS verification failed .*set ca_file to the CA"):
        provider.create(checked)
