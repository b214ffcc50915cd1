"""The NAS configuration export through the real engine, against the TrueNAS simulator over TLS: a Tier 1 NAS dataset
copied to two offsite stores on the loopback S3 server, and the nas-config dataset exporting into it. The user's
path (tests/engine/project.py `UserPath`): the empty stack's preview with the pack, `up` (the cron job created
through `cronjob.create`), a preview and an `up` without changes, then destroy removing the cron job."""

from __future__ import annotations

import contextlib

import pytest

from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK = "nasconfig"
PING_BASE = "http://127.0.0.1:9/ping/ping-key/"


def _estate(s3_endpoint: str, nas_host: str, ca_file: str) -> dict:
    return {
        "destinations": [
            {"name": "far-a", "kind": "s3-compatible", "endpoint": s3_endpoint, "flavour": "moto", "offsite": True},
            {"name": "far-b", "kind": "s3-compatible", "endpoint": s3_endpoint, "flavour": "moto", "offsite": True},
        ],
        "datasets": [
            {"name": "nas-backups", "tier": 1, "size_gb": 1,
             "source": {"kind": "truenas", "dataset": "tank/nas-backups"}},
            {"name": "nas-config", "tier": 1, "size_gb": 0.05, "source": {"kind": "nas-config",
                                                                           "target": "nas-backups"}},
        ],
        "truenas": {"host": nas_host, "ca_file": ca_file},
        "monitoring": {"healthchecks": {"ping_base": PING_BASE}},
        "kubernetes": {"mode": "render", "render_dir": "rendered", "secret_delivery": "external-secret"},
        "budget_usd_per_month": "5",
    }


@pytest.fixture(scope="module")
def nas(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("nas-config-pki"))
    datasets = {"tank": "FILESYSTEM", "tank/nas-backups": "FILESYSTEM"}
    with TrueNASSimulator(datasets=datasets, tls=server_context(pki)) as simulator:
        simulator.pki = pki
        yield simulator


@pytest.fixture(scope="module")
def path(tmp_path_factory, nas):
    port = free_port()
    with contextlib.ExitStack() as stack:
        s3_server("start", port)
        stack.callback(s3_server, "stop", port)
        project = EngineProject(tmp_path_factory.mktemp("nas-config-stack"))
        project.write_stack(STACK, _estate(f"http://127.0.0.1:{port}", f"127.0.0.1:{nas.port}", str(nas.pki["ca"])))
        project.extra_env = {"HLB_TRUENAS_API_KEY": nas.api_key, "HLB_FAR_A_ACCESS_KEY_ID": "engine-test-key",
                             "HLB_FAR_A_SECRET_ACCESS_KEY": "engine-test-secret",
                             "HLB_FAR_B_ACCESS_KEY_ID": "engine-test-key",
                             "HLB_FAR_B_SECRET_ACCESS_KEY": "engine-test-secret"}
        yield UserPath(project, STACK).begin()


def test_empty_stack_preview_with_the_pack_plans_the_cron_job(path):
    assert set(path.planned()) == {"create"}, path.planned()
    types = path.planned_types()
    assert types.get("pulumi-python:dynamic/truenas:CronJob") == 1, types
    assert types.get("homelab-backups:nas_config:NasConfigBackup") == 1, types
    # Only the advisory every NAS dataset gets (no scheduled integrity check of a cloud sync copy yet): the
    # configuration passes 3-2-1, RPO, alerting and drills through its target's copies.
    findings = path.policy_findings()
    assert all(level == "advisory" for level, _, _ in findings), findings
    assert {name for _, policy, name in findings if policy == "dataset-missing-integrity-check"} <= {
        "nas-backups", "nas-config"}


def test_up_created_the_cron_job_through_the_api(path, nas):
    (job,) = nas.rows("cronjob").values()
    assert job["user"] == "root" and job["enabled"] is True and job["stdout"] is True
    assert job["description"] == "homelab-backups nas-config: configuration export"
    assert "/mnt/tank/nas-backups/nas-config" in job["command"] and "pwenc_secret" in job["command"]
    assert f"{PING_BASE}backup-nas-config-export" in job["command"] and "\n" not in job["command"]
    runbook = path.project.outputs(STACK)["runbook"]
    assert runbook["datasets"]["nas-config"]["source"] == "nas-config"
    assert [c["destination"] for c in runbook["datasets"]["nas-config"]["copies"]] == ["nas-backups", "far-a",
                                                                                       "far-b"]


def test_preview_and_up_after_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_the_ping_key_never_reaches_outputs_or_state_in_plain_text(path):
    state = path.project.run("stack", "export", "--stack", STACK).stdout
    outputs = path.project.run("stack", "output", "--stack", STACK, "--json").stdout
    assert "ping-key/backup-nas-config-export" not in state and "ping-key" not in outputs


def test_destroy_removes_the_cron_job(path, nas):
    destroyed = path.destroy()
    destroyed.check_refusal()
    assert nas.rows("cronjob") == {}
