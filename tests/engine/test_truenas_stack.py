"""TrueNAS tasks through the real engine, against the API simulator over TLS with a private CA:
create, no-change second run, drift made in the "UI" found by refresh and converged, and encryption."""

from __future__ import annotations

import pytest
import yaml

from tests.engine.project import EngineProject, free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.fixture(scope="module")
def nas(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    with TrueNASSimulator(tls=server_context(pki)) as simulator:
        simulator.pki = pki
        yield simulator


@pytest.fixture(scope="module")
def project(tmp_path_factory, nas):
    port = free_port()
    s3_server("start", port)
    proj = EngineProject(tmp_path_factory.mktemp("truenas-stack"), s3_port=port)
    stack = proj.dir / "Pulumi.local.yaml"
    doc = yaml.safe_load(stack.read_text())
    config = doc["config"]
    config["homelab-backups:truenas"] = {"host": f"127.0.0.1:{nas.port}", "ca_file": str(nas.pki["ca"])}
    # NAS datasets report through Healthchecks; loopback discard port: the simulator never runs the scripts.
    config["homelab-backups:monitoring"] = {"healthchecks": {"ping_base": "http://127.0.0.1:9/ping-key/"}}
    config["homelab-backups:datasets"].append(
        {"name": "photos", "tier": 2, "size_gb": 50, "destinations": ["local-s3"],
         "source": {"kind": "truenas", "dataset": "tank/photos"}})
    stack.write_text(yaml.safe_dump(doc))
    proj.extra_env = {"HLB_TRUENAS_API_KEY": nas.api_key}
    proj.run("stack", "init", "local")
    proj.run("up", "--stack", "local", "--yes", "--skip-preview")
    try:
        yield proj
    finally:
        s3_server("stop", port)


def _rows(nas: TrueNASSimulator, method: str) -> list[dict]:
    from providers.truenas.client import ConnectionSettings, TrueNASClient

    settings = ConnectionSettings.from_dict({"url": nas.url, "api_key": nas.api_key, "ca_file": str(nas.pki["ca"])})
    with TrueNASClient(settings) as api:
        return api.call(method)


def test_snapshot_task_per_gfs_level_and_encrypted_cloud_sync(project, nas):
    tasks = _rows(nas, "pool.snapshottask.query")
    assert sorted((t["lifetime_unit"], t["lifetime_value"]) for t in tasks) == [("DAY", 14), ("MONTH", 3), ("WEEK", 4)]
    assert {t["dataset"] for t in tasks} == {"tank/photos"}
    (sync,) = _rows(nas, "cloudsync.query")
    assert (sync["direction"], sync["transfer_mode"], sync["encryption"], sync["snapshot"]) == (
        "PUSH", "SYNC", True, True)
    assert sync["attributes"]["bucket"] == "hlb-local-s3-tier2"
    assert sync["attributes"]["folder"] == "truenas/tank/photos"
    assert "http://127.0.0.1:9/ping-key/backup-photos-local-s3/start" in sync["pre_script"]
    (credential,) = _rows(nas, "cloudsync.credentials.query")
    assert credential["provider"]["type"] == "S3"


def test_second_run_changes_nothing(project):
    result = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--expect-no-changes", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_drift_made_on_the_nas_is_found_and_converged(project, nas):
    daily = next(t for t in _rows(nas, "pool.snapshottask.query") if t["lifetime_unit"] == "DAY")
    nas.edit("pool.snapshottask", daily["id"], lifetime_value=2)
    # Rendered Kubernetes objects have no cluster to be read from: refresh everything else.
    refresh = project.run("refresh", "--stack", "local", "--yes", "--skip-preview", "--exclude", "**kubernetes**")
    assert "photos-daily" in refresh.stdout and "updated" in refresh.stdout, refresh.stdout
    drift = project.run("preview", "--stack", "local", "--diff")
    assert "lifetime_value" in drift.stdout, drift.stdout
    project.run("up", "--stack", "local", "--yes", "--skip-preview")
    daily = next(t for t in _rows(nas, "pool.snapshottask.query") if t["lifetime_unit"] == "DAY")
    assert daily["lifetime_value"] == 14
    converged = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--expect-no-changes", check=False)
    assert converged.returncode == 0, converged.stdout


def test_nas_secrets_never_reach_outputs_or_state_in_plain_text(project, nas):
    plain = project.run("stack", "output", "--stack", "local", "--json").stdout
    state = project.run("stack", "export", "--stack", "local").stdout
    assert nas.api_key not in plain and nas.api_key not in state
    (sync,) = _rows(nas, "cloudsync.query")
    assert sync["encryption_password"] not in state
