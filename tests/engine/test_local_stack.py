"""The local stack through the real engine, on the path a user walks (tests/engine/project.py `UserPath`): the
pull request's preview of the empty stack with the pack, `up`, read back from the S3 server, a preview and an `up`
without changes, no secret in plain text anywhere meant to be shared, and destroy that spares protected resources."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.engine.project import EngineProject, UserPath, free_port, s3_server

pytestmark = [pytest.mark.engine, pytest.mark.slow]

BUCKET = "hlb-local-s3-tier1"
PING_KEY = "engine-ping-key-never-shared_0123"
"""The Healthchecks project ping key, given as a user would (HLB_HEALTHCHECKS_PING_KEY): it fakes success pings."""


def _with_healthchecks(project: EngineProject) -> None:
    """The demo stack plus Healthchecks: the endpoint in the stack file, the key only in the environment."""
    stack = project.dir / "Pulumi.local.yaml"
    stack.write_text(stack.read_text() + '  homelab-backups:monitoring:\n'
                     '    healthchecks: {ping_base: "https://hc-ping.com/"}\n')
    project.extra_env["HLB_HEALTHCHECKS_PING_KEY"] = PING_KEY


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    port = free_port()
    s3_server("start", port)
    try:
        workdir = tmp_path_factory.mktemp("local-stack")
        project = EngineProject(workdir, s3_port=port)
        project.capture = workdir / "wire.jsonl"
        _with_healthchecks(project)
        yield UserPath(project, "local").begin()
    finally:
        s3_server("stop", port)


def _s3(port: int):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="engine-test-key", aws_secret_access_key="engine-test-secret",
                        config=Config(s3={"addressing_style": "path"}))


def test_empty_stack_preview_with_the_pack_plans_only_creates(path):
    planned = path.planned()
    assert set(planned) == {"create"} and planned["create"] > 10, planned
    assert path.policy_findings() == set()


def test_up_exports_the_runbook_contract(path):
    runbook = path.project.outputs("local")["runbook"]
    assert runbook["version"] == "5"
    vaultwarden = runbook["datasets"]["vaultwarden"]
    assert vaultwarden["tier"] == 1
    assert [c["destination"] for c in vaultwarden["copies"]] == ["nas", "local-s3"]
    nas_copy, s3_copy = vaultwarden["copies"]
    ping_base = {"output": "secrets", "path": "secrets.healthchecks_ping_base"}
    # Every copy is checked; only the drilled one (the first, local) lists the drill that pings.
    assert vaultwarden["verification"]["drilled_copy"] == "nas"
    assert nas_copy["healthcheck"] == {"backup": "backup-vaultwarden-nas", "check": "backup-vaultwarden-nas-check",
                                       "drill": "backup-vaultwarden-nas-drill", "ping_base": ping_base}
    assert s3_copy["healthcheck"] == {"backup": "backup-vaultwarden-local-s3",
                                      "check": "backup-vaultwarden-local-s3-check", "ping_base": ping_base}
    assert s3_copy["bucket"] == BUCKET
    assert s3_copy["repository"] == "volsync/vaultwarden/vaultwarden-data"


def test_bucket_exists_on_the_server_with_the_planned_lifecycle_and_lock(path):
    s3 = _s3(path.project.s3_port)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert len(rules) == 1
    (rule,) = rules
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 15
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert "Days" not in rule.get("Expiration", {}), "current objects must never expire"
    lock = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"], retention.get("Years") or 0) == ("GOVERNANCE", 14, 0)


def test_preview_and_up_after_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


OTHER_KEYS = {"HLB_LOCAL_S3_ACCESS_KEY_ID": "read-only-preview-key",
              "HLB_LOCAL_S3_SECRET_ACCESS_KEY": "read-only-preview-secret"}
"""What a pull request's preview holds instead of the admin key (the loopback server takes any key)."""


def test_preview_with_other_provisioning_keys_changes_nothing(path):
    """Admin keys are provider configuration: a preview with other (read-only) keys shows no change at all."""
    result = path.pulumi("preview-other-keys", "preview", "--expect-no-changes", "--diff", env=OTHER_KEYS)
    path.require("preview-other-keys")
    assert "credentials" not in result.stdout, result.stdout


def test_no_admin_key_in_any_resource_state(path):
    exported = json.loads(path.project.run("stack", "export", "--show-secrets", "--stack", "local").stdout)
    for resource in exported["deployment"]["resources"]:
        held = json.dumps({"inputs": resource.get("inputs"), "outputs": resource.get("outputs")})
        assert "engine-test-secret" not in held, resource["urn"]
        if resource["type"].startswith("pulumi-python:dynamic/"):
            assert "credentials" not in (resource.get("inputs") or {}), resource["urn"]


def test_providers_received_the_stored_wire_forms(path):
    only_live, only_stored = path.wire_forms("local")
    assert not only_live, "forms the engine sends that tests/providers/wire_forms/local.json lacks:\n" + "\n".join(
        sorted(only_live))
    assert not only_stored, "stored forms the engine no longer sends:\n" + "\n".join(sorted(only_stored))


def test_rendered_manifests_one_folder_per_namespace_without_secret_values(path):
    secrets = path.project.outputs("local", show_secrets=True)["secrets"]
    assert secrets.pop("healthchecks_ping_base") == f"https://hc-ping.com/{PING_KEY}/"
    values = [v for per_dataset in secrets.values() for v in per_dataset.values()]
    # vaultwarden 2, grafana 1, home-assistant 2 (Kopiur: its replica opens with the NAS repository's password)
    assert len(values) == 5 and all(len(v) >= 32 for v in values)
    assert secrets["home-assistant"]["local-s3"] == secrets["home-assistant"]["nas"]
    values.append(PING_KEY)
    rendered = path.project.dir / "rendered"
    assert sorted(p.name for p in rendered.iterdir()) == ["home-automation", "monitoring", "vaultwarden"]
    files = list(rendered.rglob("*.yaml"))
    assert files, "nothing rendered"
    text = "\n".join(p.read_text() for p in files)
    assert "kind: ReplicationSource" in text and "kind: ExternalSecret" in text
    assert "restic:" in text and "kopia:" in text and "kind: KopiaMaintenance" in text
    assert "kind: ReplicationDestination" in text and "kind: PrometheusRule" in text
    assert "kind: RepositoryReplication" in text and "kind: SnapshotPolicy" in text
    assert "kind: Secret\n" not in text
    # Jobs read their ping URL from the dataset's ping Secret; its ExternalSecret fetches only the key.
    assert "name: HC_URL\n" in text and "secretKeyRef:" in text and "{{ .ping_key }}" in text
    assert "hc-ping.com/backup" not in text
    for value in values:
        assert value not in text


def test_no_secret_in_outputs_previews_or_wire_captures(path):
    project = path.project
    secrets = project.outputs("local", show_secrets=True)["secrets"]
    secrets.pop("healthchecks_ping_base")
    values = [v for per_dataset in secrets.values() for v in per_dataset.values()] + [PING_KEY]
    plain_outputs = project.run("stack", "output", "--stack", "local", "--json").stdout
    shared = [plain_outputs, project.run("preview", "--stack", "local", "--json").stdout,
              *(r.stdout + r.stderr for r in path.steps.values())]
    for value in values:
        assert all(value not in text for text in shared)
    assert json.loads(plain_outputs)["secrets"] == "[secret]"
    assert json.loads(plain_outputs)["credentials"] == "[secret]"
    assert json.loads(plain_outputs)["reader_credentials"] == "[secret]"
    shown = project.outputs("local", show_secrets=True)
    writer = shown["credentials"]["vaultwarden"]["local-s3"]
    reader = shown["reader_credentials"]["vaultwarden"]["local-s3"]
    # The loopback server has no admin API the program drives: the writer's own keys (supplied, as for Storj),
    # never the destination's admin key.
    env = project.env()
    assert writer == {"access_key_id": env["HLB_LOCAL_S3_WRITER_VAULTWARDEN_RESTIC_ACCESS_KEY_ID"],
                      "secret_access_key": env["HLB_LOCAL_S3_WRITER_VAULTWARDEN_RESTIC_SECRET_ACCESS_KEY"]}
    assert reader["access_key_id"] == env["HLB_LOCAL_S3_READER_VAULTWARDEN_RESTIC_ACCESS_KEY_ID"]
    admin = {env["HLB_LOCAL_S3_ACCESS_KEY_ID"], env["HLB_LOCAL_S3_SECRET_ACCESS_KEY"]}
    assert not admin & {*writer.values(), *reader.values()}


def test_destroy_refuses_protected_resources_then_removes_the_rest(path):
    destroyed = path.destroy()
    destroyed.check_refusal()
    protected = destroyed.names(destroyed.before, protected=True)
    assert {"hlb-local-s3-tier1-bucket", "vaultwarden-nas-password"} <= protected
    assert BUCKET not in [b["Name"] for b in _s3(path.project.s3_port).list_buckets()["Buckets"]]
    assert Path(path.project.dir / "rendered").exists()
