"""components/proxmox.py on the second example stack (Pulumi.pve.yaml) under mocks: one component per guest group
with a backup job per storage, the PBS component with sync, prune, verify and GC, and no token anywhere."""

from __future__ import annotations

import json

from tests.components.harness import of_type


def test_a_component_per_guest_group_with_a_job_per_storage(pve_stack):
    registered, _ = pve_stack
    groups = {r.name: r for r in of_type(registered, "proxmox:ProtectedGuests")}
    assert sorted(groups) == ["apps", "infra", "lab"]
    jobs = {r.name: r for r in of_type(registered, "proxmox:BackupJob")}
    assert sorted(jobs) == ["apps-nas-vzdump-backup", "infra-nas-vzdump-backup", "infra-pbs-local-backup",
                            "lab-nas-vzdump-backup"]
    for name, job in jobs.items():
        assert job.parent == groups[name.split("-")[0]].urn, job.urn
    apps = jobs["apps-nas-vzdump-backup"].inputs
    assert {k: apps[k] for k in ("job_id", "schedule", "storage", "vmid", "mode", "compress", "prune_backups",
                                 "repeat_missed", "enabled", "tier", "credentials_entry")} == {
        "job_id": "hlb-apps-nas-vzdump", "schedule": "21:00", "storage": "truenas-backups", "vmid": "200,201,202",
        "mode": "snapshot", "compress": "zstd", "prune_backups": "keep-daily=14,keep-weekly=4,keep-monthly=3",
        "repeat_missed": True, "enabled": True, "tier": 2, "credentials_entry": "proxmox"}
    lab = jobs["lab-nas-vzdump-backup"].inputs
    assert (lab["all"], lab["exclude"]) == (True, "100,110,200,201,202")


def test_the_backup_server_syncs_prunes_verifies_and_collects(pve_stack):
    registered, _ = pve_stack
    (server,) = of_type(registered, "proxmox:ProxmoxBackupServer")
    kinds = {r.typ.rsplit(":", 1)[-1]: [] for r in registered if r.parent == server.urn}
    for r in registered:
        if r.parent == server.urn:
            kinds[r.typ.rsplit(":", 1)[-1]].append(r.name)
    assert {k: sorted(v) for k, v in kinds.items()} == {
        "SyncJob": ["pbs-pbs-offsite-sync"], "DatastoreGc": ["pbs-pbs-local-gc", "pbs-pbs-offsite-gc"],
        "PruneJob": ["pbs-pbs-offsite-prune"], "VerifyJob": ["pbs-pbs-local-verify", "pbs-pbs-offsite-verify"]}
    (sync,) = of_type(registered, "proxmox:SyncJob")
    assert (sync.inputs["store"], sync.inputs["remote_store"], sync.inputs["remove_vanished"]) == (
        "offsite-s3", "tank", False)
    (prune,) = of_type(registered, "proxmox:PruneJob")
    assert (prune.inputs["keep_daily"], prune.inputs["keep_monthly"]) == (30, 12)


def test_no_token_secret_is_an_input_or_in_the_state(pve_stack):
    registered, _ = pve_stack
    text = json.dumps([r.inputs for r in registered], default=str) + json.dumps([r.state for r in registered],
                                                                                 default=str)
    assert "SECRET-pve-token" not in text and "SECRET-pbs-token" not in text
    for job in of_type(registered, "proxmox:BackupJob"):
        assert "token" not in job.inputs and job.inputs["connection"]["url"] == "https://pve1.lan:8006", job.urn


def test_the_coverage_check_runs_daily_with_the_read_only_token(pve_stack):
    registered, _ = pve_stack
    (check,) = of_type(registered, "proxmox:CoverageCheck")
    objects = {r.name: r for r in registered if r.parent == check.urn}
    assert sorted(objects) == ["proxmox-coverage-cronjob", "proxmox-coverage-healthchecks", "proxmox-coverage-token"]
    cron = objects["proxmox-coverage-cronjob"].inputs
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["PVE_URL"], env["PVE_TOKEN_ID"]) == ("https://pve1.lan:8006", "audit@pve!coverage")
    assert "SECRET-audit-token" not in json.dumps([r.inputs for r in registered], default=str)
