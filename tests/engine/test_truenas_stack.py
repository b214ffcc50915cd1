"""TrueNAS tasks through the real engine, against the API simulator over TLS with a private CA, on the path a user
walks (tests/engine/project.py `UserPath`): the empty stack's preview with the pack (where CloudSyncTask used to
refuse the unknown password, salt and credential id), `up`, a preview and an `up` without changes, drift made in the
"UI" found by refresh and converged, a preview that replaces the credential (unknowns reach `diff`), and destroy."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]

CREDENTIAL = "photos-local-s3-credential"


@pytest.fixture(scope="module")
def nas(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    with TrueNASSimulator(tls=server_context(pki)) as simulator:
        simulator.pki = pki
        yield simulator


@pytest.fixture(scope="module")
def path(tmp_path_factory, nas):
    port = free_port()
    s3_server("start", port)
    try:
        workdir = tmp_path_factory.mktemp("truenas-stack")
        proj = EngineProject(workdir, s3_port=port)
        stack = proj.dir / "Pulumi.local.yaml"
        doc = yaml.safe_load(stack.read_text())
        config = doc["config"]
        config["homelab-backups:truenas"] = {"host": f"127.0.0.1:{nas.port}", "ca_file": str(nas.pki["ca"])}
        # NAS datasets report through Healthchecks (a self-hosted ping URL, /ping/ as the pack recognises it);
        # loopback discard port: the simulator never runs the scripts.
        config["homelab-backups:monitoring"] = {"healthchecks": {"ping_base": "http://127.0.0.1:9/ping/ping-key/"}}
        config["homelab-backups:datasets"].append(
            {"name": "photos", "tier": 2, "size_gb": 50, "destinations": ["local-s3"],
             "source": {"kind": "truenas", "dataset": "tank/photos"}})
        stack.write_text(yaml.safe_dump(doc))
        proj.extra_env = {"HLB_TRUENAS_API_KEY": nas.api_key}
        proj.capture = workdir / "wire.jsonl"
        yield UserPath(proj, "local").begin()
    finally:
        s3_server("stop", port)


def _rows(nas: TrueNASSimulator, method: str) -> list[dict]:
    from providers.truenas.client import ConnectionSettings, TrueNASClient

    settings = ConnectionSettings.from_dict({"url": nas.url, "api_key": nas.api_key, "ca_file": str(nas.pki["ca"])})
    with TrueNASClient(settings) as api:
        return api.call(method)


def test_empty_stack_preview_with_the_pack_plans_the_nas_tasks(path):
    assert set(path.planned()) == {"create"}, path.planned()
    types = path.planned_types()
    assert [types.get(f"pulumi-python:dynamic/truenas:{kind}") for kind in (
        "SnapshotTask", "CloudCredential", "CloudSyncTask")] == [3, 1, 1], types
    # Nothing schedules an integrity check of a NAS dataset's cloud copy yet; the pack reports it, as advisory.
    assert path.policy_findings() == {("advisory", "dataset-missing-integrity-check", "photos")}


def test_snapshot_task_per_gfs_level_and_encrypted_cloud_sync(path, nas):
    tasks = _rows(nas, "pool.snapshottask.query")
    assert sorted((t["lifetime_unit"], t["lifetime_value"]) for t in tasks) == [("DAY", 14), ("MONTH", 3), ("WEEK", 4)]
    assert {t["dataset"] for t in tasks} == {"tank/photos"}
    (sync,) = _rows(nas, "cloudsync.query")
    assert (sync["direction"], sync["transfer_mode"], sync["encryption"], sync["snapshot"]) == (
        "PUSH", "SYNC", True, True)
    assert sync["attributes"]["bucket"] == "hlb-local-s3-tier2"
    assert sync["attributes"]["folder"] == "truenas/tank/photos"
    assert "http://127.0.0.1:9/ping/ping-key/backup-photos-local-s3/start" in sync["pre_script"]
    (credential,) = _rows(nas, "cloudsync.credentials.query")
    assert credential["provider"]["type"] == "S3"


def test_preview_and_up_after_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_drift_made_on_the_nas_is_found_and_converged(path, nas):
    project = path.project
    daily = next(t for t in _rows(nas, "pool.snapshottask.query") if t["lifetime_unit"] == "DAY")
    nas.edit("pool.snapshottask", daily["id"], lifetime_value=2)
    # Rendered Kubernetes objects have no cluster to be read from: refresh everything else.
    refresh = project.run("refresh", "--stack", "local", "--yes", "--skip-preview", "--exclude", "**kubernetes**")
    assert "photos-daily" in refresh.stdout and "updated" in refresh.stdout, refresh.stdout
    # The diff `up` prints is the one a preview would (one program run fewer: ~8 s of CPU).
    converge = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--diff")
    assert "lifetime_value" in converge.stdout, converge.stdout
    daily = next(t for t in _rows(nas, "pool.snapshottask.query") if t["lifetime_unit"] == "DAY")
    assert daily["lifetime_value"] == 14
    converged = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--expect-no-changes", check=False)
    assert converged.returncode == 0, converged.stdout


def test_replacing_the_credential_previews_an_update_of_the_task(path):
    """The task's `credentials` (the credential's id) is unknown in this preview: diff must call it a change,
    not a replacement, and check must accept it."""
    urn = next(r["urn"] for r in path.project.resources("local") if r["urn"].endswith(f"::{CREDENTIAL}"))
    result = path.pulumi("preview-replace", "preview", "--replace", urn, "--json")
    path.require("preview-replace")
    steps = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in json.loads(result.stdout)["steps"]}
    assert steps[CREDENTIAL] in ("replace", "delete-replaced", "create-replacement"), steps
    assert steps["photos-local-s3-sync"] == "update", steps


def test_providers_received_the_stored_wire_forms(path):
    only_live, only_stored = path.wire_forms("truenas")
    assert not only_live, "forms the engine sends that tests/providers/wire_forms/truenas.json lacks:\n" + "\n".join(
        sorted(only_live))
    assert not only_stored, "stored forms the engine no longer sends:\n" + "\n".join(sorted(only_stored))


def test_nas_secrets_never_reach_outputs_or_state_in_plain_text(path, nas):
    project = path.project
    plain = project.run("stack", "output", "--stack", "local", "--json").stdout
    state = project.run("stack", "export", "--stack", "local").stdout
    assert nas.api_key not in plain and nas.api_key not in state
    (sync,) = _rows(nas, "cloudsync.query")
    assert sync["encryption_password"] not in state


def test_destroy_refuses_protected_resources_then_removes_the_nas_tasks(path, nas):
    destroyed = path.destroy()
    destroyed.check_refusal()
    assert {"photos-local-s3-sync-password", "photos-local-s3-sync-salt"} <= destroyed.names(
        destroyed.before, protected=True)
    for method in ("pool.snapshottask.query", "cloudsync.query", "cloudsync.credentials.query"):
        assert _rows(nas, method) == [], method
