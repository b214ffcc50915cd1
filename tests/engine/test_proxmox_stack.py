"""Proxmox guests through the real engine, on the local stack extended with a `proxmox` section, against the PVE and
PBS stand-ins over TLS with a private CA (tests/proxmox_simulator: stateful, PVE requests validated by fakepve):
the empty stack's preview with the pack, `up`, a preview and an `up` without changes, a job edited in the web UI
and one deleted there found by refresh and converged, no token in the state, and destroy. The offsite copies are an
S3-backed datastore whose bucket is the loopback S3 destination (the S3 endpoint with that bucket's writer key) and a
datastore on a second PBS stand-in pushed to through a declared remote with a sync token made there. The guest
restore drill goes the same path: planned with the pack, rendered by `up`, and the rendered CronJob's own script run
against the simulator."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.proxmox_simulator import ProxmoxSimulator
from tests.proxmox_simulator.guests import GuestSimulator
from tests.truenas_simulator.pki import make_pki, server_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pve-pki"))


@pytest.fixture(scope="module")
def pve(pki):
    with GuestSimulator("PVE", tls=server_context(pki)) as simulator:
        for vmid, node in ((100, "pve1"), (101, "pve1"), (200, "pve2"), (201, "pve2")):
            simulator.add_guest(vmid, node, "lxc" if vmid >= 200 else "qemu")
        simulator.storages |= {"truenas-backups", "pbs-tank"}
        yield simulator


@pytest.fixture(scope="module")
def pbs(pki):
    with ProxmoxSimulator("PBS", token_id="backup@pbs!homelab-backups", token_secret="pbs-token-secret-value",
                          tls=server_context(pki)) as simulator:
        simulator.datastores |= {"tank": {"path": "/mnt/datastore/tank"}}
        yield simulator


@pytest.fixture(scope="module")
def remote_pbs(pki):
    with ProxmoxSimulator("PBS", token_id="admin@pbs!homelab-backups", token_secret="remote-admin-token-value",
                          tls=server_context(pki)) as simulator:
        simulator.datastores |= {"homelab": {"path": "/mnt/datastore/homelab"}}
        yield simulator


def _fingerprint(pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


@pytest.fixture(scope="module")
def path(tmp_path_factory, pki, pve, pbs, remote_pbs):
    port = free_port()
    s3_server("start", port)
    try:
        workdir = tmp_path_factory.mktemp("proxmox-stack")
        proj = EngineProject(workdir, s3_port=port)
        stack = proj.dir / "Pulumi.local.yaml"
        doc = yaml.safe_load(stack.read_text())
        doc["config"]["homelab-backups:proxmox"] = {
            "api_url": pve.url, "token_id": pve.token_id, "ca_file": str(pki["ca"]), "nodes": ["pve1", "pve2"],
            "pbs": {"api_url": pbs.url, "token_id": pbs.token_id, "ca_file": str(pki["ca"])},
            "destinations": [
                {"name": "nas-vzdump", "kind": "pve-storage", "storage": "truenas-backups"},
                {"name": "pbs-local", "kind": "pbs", "datastore": "tank", "storage": "pbs-tank"},
                {"name": "pbs-offsite", "kind": "pbs", "datastore": "offsite-s3", "sync_from": "pbs-local",
                 "offsite": True, "media": "object-storage", "s3": "local-s3"},
                {"name": "pbs-remote", "kind": "pbs", "datastore": "homelab", "sync_from": "pbs-local",
                 "remote": "offsite-pbs", "offsite": True},
            ],
            "remotes": [{"name": "offsite-pbs", "api_url": remote_pbs.url, "token_id": remote_pbs.token_id,
                         "ca_file": str(pki["ca"]), "fingerprint": _fingerprint(pki["cert"].read_bytes())}],
            "guests": [
                {"name": "infra", "tier": 1, "size_gb": 30, "vmids": [100, 101], "node": "pve1"},
                {"name": "lab", "tier": 3, "size_gb": 50, "all": True, "exclude": [100, 101],
                 "destinations": ["nas-vzdump"]},
            ],
            "drill": {"token_id": pve.token_id},
        }
        stack.write_text(yaml.safe_dump(doc))
        proj.extra_env = {"HLB_PROXMOX_TOKEN_SECRET": pve.token_secret, "HLB_PBS_TOKEN_SECRET": pbs.token_secret,
                          "HLB_PROXMOX_DRILL_TOKEN_SECRET": pve.token_secret,
                          "HLB_PBS_REMOTE_OFFSITE_PBS_TOKEN_SECRET": remote_pbs.token_secret}
        proj.capture = workdir / "wire.jsonl"
        yield UserPath(proj, "local").begin()
    finally:
        s3_server("stop", port)


def test_empty_stack_preview_with_the_pack_plans_the_jobs(path):
    assert set(path.planned()) == {"create"}, path.planned()
    types = path.planned_types()
    assert [types.get(f"pulumi-python:dynamic/proxmox:{kind}") for kind in (
        "BackupJob", "SyncJob", "PruneJob", "VerifyJob", "DatastoreGc", "S3Endpoint", "S3Datastore", "SyncToken",
        "Remote")] == [3, 2, 2, 3, 3, 1, 1, 1, 1], types
    assert types.get("homelab-backups:proxmox:ProtectedGuests") == 2
    assert types.get("homelab-backups:proxmox:GuestDrills") == 1, types
    assert not {f for f in path.policy_findings() if f[2].startswith(("infra", "lab", "pbs"))}, path.policy_findings()


def test_up_created_the_jobs_on_pve_and_pbs(path, pve, pbs):
    assert sorted(pve.jobs) == ["hlb-infra-nas-vzdump", "hlb-infra-pbs-local", "hlb-lab-nas-vzdump"]
    infra = pve.jobs["hlb-infra-nas-vzdump"]
    assert (infra["vmid"], infra["node"], infra["storage"], infra["prune-backups"], infra["repeat-missed"]) == (
        "100,101", "pve1", "truenas-backups", "keep-hourly=48,keep-daily=30,keep-monthly=6", 1)
    lab = pve.jobs["hlb-lab-nas-vzdump"]
    assert (lab["all"], lab["exclude"], lab["prune-backups"]) == (1, "100,101", "keep-daily=7")
    assert sorted(pbs.pbs["sync"]) == ["hlb-pbs-offsite", "hlb-pbs-remote"]
    assert pbs.pbs["prune"]["hlb-pbs-offsite"]["keep-monthly"] == "12"
    assert {k: v["outdated-after"] for k, v in pbs.pbs["verify"].items()} == {
        "hlb-pbs-local": "7", "hlb-pbs-offsite": "7"}
    assert all("gc-schedule" in store for store in pbs.datastores.values())


def test_the_rendered_drill_cronjob_restores_a_guest_on_the_simulator(path, pve, pki):
    """The drill `up` rendered, run as the CronJob would run it (sh and curl; the token comes from its Secret)."""
    files = (path.project.dir / "rendered").rglob("*.yaml")
    rendered = [doc for f in files for doc in yaml.safe_load_all(f.read_text())]
    (found,) = [doc for doc in rendered
                if doc and doc.get("kind") == "CronJob" and doc["metadata"]["name"] == "infra-nas-vzdump-drill"]
    if shutil.which("curl") is None:
        pytest.skip("the job image ships curl; this host has none")
    (container,) = found["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    pve.storages.add("local-lvm")
    pve.pools.add(env["SCRATCH_POOL"])
    volid = pve.add_backup("truenas-backups", 101, kind="lxc")
    result = subprocess.run(["sh", "-c", container["command"][2]], capture_output=True, text=True, timeout=120,
                            check=False, env={"PATH": os.environ["PATH"], **env, "PVE_CA_FILE": str(pki["ca"]),
                                              "PVE_TOKEN_SECRET": pve.token_secret, "POLL_SECONDS": "0"})
    assert result.returncode == 0, result.stderr
    assert [(m, p) for m, p, params in pve.requests if m == "POST" and params.get("ostemplate") == volid] == [
        ("POST", "/nodes/pve1/lxc")]
    assert int(env["SCRATCH_VMID"]) not in pve.guests


def test_up_declared_the_s3_backed_datastore_with_its_own_bucket_key(path, pbs):
    endpoint = pbs.offsite.s3["hlb-pbs-offsite"]
    assert (endpoint["endpoint"], endpoint["path-style"], endpoint["access-key"]) == (
        "127.0.0.1", "1", "writer-local-s3-pbs-offsite-pbs-id")
    assert endpoint["secret-key"] == "SECRET-writer-local-s3-pbs-offsite-pbs"
    assert pbs.datastores["offsite-s3"]["backend"] == "type=s3,client=hlb-pbs-offsite,bucket=hlb-local-s3-tier1"
    sync = pbs.pbs["sync"]["hlb-pbs-offsite"]
    assert (sync["store"], sync["remote-store"], sync.get("remote"), sync["remove-vanished"]) == (
        "offsite-s3", "tank", None, "0")


def test_up_pushes_to_the_remote_pbs_with_a_token_that_can_only_back_up(path, pbs, remote_pbs):
    state = remote_pbs.offsite
    assert sorted((e["path"], e["ugid"], e["roleid"]) for e in state.acl) == [
        ("/datastore/homelab", "hlb-sync@pbs", "DatastoreBackup"),
        ("/datastore/homelab", "hlb-sync@pbs!push", "DatastoreBackup")]
    remote = pbs.offsite.remote["offsite-pbs"]
    assert (remote["auth-id"], remote["password"]) == ("hlb-sync@pbs!push", state.tokens["hlb-sync@pbs!push"]["value"])
    sync = pbs.pbs["sync"]["hlb-pbs-remote"]
    assert (sync["store"], sync["remote"], sync["remote-store"], sync["sync-direction"]) == (
        "tank", "offsite-pbs", "homelab", "push")
    assert remote_pbs.pbs["prune"]["hlb-pbs-remote"]["keep-monthly"] == "12"
    assert "gc-schedule" in remote_pbs.datastores["homelab"]


def test_no_guest_is_left_without_a_job(path, pve, pki):
    """What the coverage check asks PVE: `/cluster/backup-info/not-backed-up` is empty after `up`."""
    from providers.proxmox.service import connect

    api = connect({"url": pve.url, "token_id": pve.token_id, "ca_file": str(pki["ca"])},
                  {"token_secret": pve.token_secret}, "PVE")
    assert api("cluster/backup-info/not-backed-up").get() == []


def test_preview_and_up_after_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_ui_edits_and_a_ui_deletion_are_found_by_refresh_and_converged(path, pve, pbs, remote_pbs):
    project = path.project
    pve.edit("backup", "hlb-infra-nas-vzdump", schedule="sun 12:00", enabled=0)
    pve.remove("backup", "hlb-lab-nas-vzdump")
    pbs.edit("prune", "hlb-pbs-offsite", keep_monthly="1")
    pbs.edit("s3", "hlb-pbs-offsite", region="eu-central-1")
    pbs.remove("remote", "offsite-pbs")
    first_token = remote_pbs.offsite.tokens["hlb-sync@pbs!push"]["value"]
    remote_pbs.offsite.remove_token("hlb-sync@pbs!push")  # its ACLs go with it
    refresh = project.run("refresh", "--stack", "local", "--yes", "--skip-preview", "--exclude", "**kubernetes**")
    assert "infra-nas-vzdump-backup" in refresh.stdout and "deleted" in refresh.stdout, refresh.stdout
    drift = project.run("preview", "--stack", "local", "--diff")
    assert "schedule" in drift.stdout and "keep_monthly" in drift.stdout, drift.stdout
    project.run("up", "--stack", "local", "--yes", "--skip-preview")
    job = pve.jobs["hlb-infra-nas-vzdump"]
    assert (job["schedule"] != "sun 12:00", job["enabled"]) == (True, 1)
    assert "hlb-lab-nas-vzdump" in pve.jobs
    assert pbs.pbs["prune"]["hlb-pbs-offsite"]["keep-monthly"] == "12"
    assert pbs.offsite.s3["hlb-pbs-offsite"]["region"] == "us-east-1"
    # A new token replaced the deleted one, and the re-created remote entry signs in with it.
    new_token = remote_pbs.offsite.tokens["hlb-sync@pbs!push"]["value"]
    assert new_token != first_token and pbs.offsite.remote["offsite-pbs"]["password"] == new_token
    assert len(remote_pbs.offsite.acl) == 2
    converged = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--expect-no-changes", check=False)
    assert converged.returncode == 0, converged.stdout


def test_providers_received_the_stored_wire_forms(path):
    only_live, only_stored = path.wire_forms("proxmox")
    assert not only_live, "forms the engine sends that tests/providers/wire_forms/proxmox.json lacks:\n" + "\n".join(
        sorted(only_live))
    assert not only_stored, "stored forms the engine no longer sends:\n" + "\n".join(sorted(only_stored))


def test_token_secrets_never_reach_outputs_or_state(path, pve, pbs, remote_pbs):
    project = path.project
    plain = project.run("stack", "output", "--stack", "local", "--json").stdout
    state = project.run("stack", "export", "--stack", "local").stdout
    sync_token = remote_pbs.offsite.tokens["hlb-sync@pbs!push"]["value"]
    bucket_key = pbs.offsite.s3["hlb-pbs-offsite"]["secret-key"]
    for secret in (pve.token_secret, pbs.token_secret, remote_pbs.token_secret, sync_token, bucket_key):
        assert secret not in plain and secret not in state


def test_destroy_removes_the_jobs_and_clears_gc_but_keeps_the_datastores(path, pve, pbs, remote_pbs):
    destroyed = path.destroy()
    destroyed.check_refusal()
    assert pve.jobs == {}
    assert pbs.pbs == {"sync": {}, "prune": {}, "verify": {}}
    assert all("gc-schedule" not in store and "path" in store for store in pbs.datastores.values())
    # The S3 datastore's configuration goes; its data stays in the (protected) bucket.
    assert "offsite-s3" not in pbs.datastores and pbs.offsite.s3 == {} and pbs.offsite.remote == {}
    assert (remote_pbs.offsite.users, remote_pbs.offsite.acl, remote_pbs.pbs["prune"]) == ({}, [], {})
    assert "path" in remote_pbs.datastores["homelab"]
