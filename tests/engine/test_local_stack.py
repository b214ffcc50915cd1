"""The local stack through the real engine: up, read back from the S3 server, up again (no changes),
no secret in plain text anywhere meant to be shared, and destroy that spares protected resources."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.engine.project import EngineProject, free_port, s3_server

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    port = free_port()
    s3_server("start", port)
    proj = EngineProject(tmp_path_factory.mktemp("local-stack"), s3_port=port)
    proj.run("stack", "init", "local")
    first = proj.run("up", "--stack", "local", "--yes", "--skip-preview")
    proj.first_up = first
    try:
        yield proj
    finally:
        s3_server("stop", port)


def _s3(port: int):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="engine-test-key", aws_secret_access_key="engine-test-secret",
                        config=Config(s3={"addressing_style": "path"}))


def test_up_exports_the_runbook_contract(project):
    runbook = project.outputs("local")["runbook"]
    assert runbook["version"] == "1"
    vaultwarden = runbook["datasets"]["vaultwarden"]
    assert vaultwarden["tier"] == 1
    assert [c["destination"] for c in vaultwarden["copies"]] == ["nas", "local-s3"]
    s3_copy = vaultwarden["copies"][1]
    assert s3_copy["bucket"] == "hlb-local-s3-tier1"
    assert s3_copy["repository"] == "volsync/vaultwarden/vaultwarden-data"


def test_bucket_exists_on_the_server_with_the_planned_lifecycle_and_lock(project):
    s3 = _s3(project.s3_port)
    bucket = "hlb-local-s3-tier1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(rules) == 1
    (rule,) = rules
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 15
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert "Days" not in rule.get("Expiration", {}), "current objects must never expire"
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"], retention.get("Years") or 0) == ("GOVERNANCE", 14, 0)


def test_second_up_reports_no_changes(project):
    result = project.run("up", "--stack", "local", "--yes", "--skip-preview", "--expect-no-changes", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_manifests_one_folder_per_namespace_without_secret_values(project):
    secrets = project.outputs("local", show_secrets=True)["secrets"]
    values = [v for per_dataset in secrets.values() for v in per_dataset.values()]
    assert len(values) == 3 and all(len(v) >= 32 for v in values)
    rendered = project.dir / "rendered"
    assert sorted(p.name for p in rendered.iterdir()) == ["monitoring", "vaultwarden"]
    files = list(rendered.rglob("*.yaml"))
    assert files, "nothing rendered"
    text = "\n".join(p.read_text() for p in files)
    assert "kind: ReplicationSource" in text and "kind: ExternalSecret" in text
    assert "restic:" in text and "kopia:" in text and "kind: KopiaMaintenance" in text
    assert "kind: ReplicationDestination" in text and "kind: PrometheusRule" in text
    assert "kind: Secret\n" not in text
    for value in values:
        assert value not in text


def test_no_secret_in_outputs_or_preview_json(project):
    secrets = project.outputs("local", show_secrets=True)["secrets"]
    values = [v for per_dataset in secrets.values() for v in per_dataset.values()]
    plain_outputs = project.run("stack", "output", "--stack", "local", "--json").stdout
    preview = project.run("preview", "--stack", "local", "--json").stdout
    state_log = project.first_up.stdout + project.first_up.stderr
    for value in values:
        assert value not in plain_outputs
        assert value not in preview
        assert value not in state_log
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


def test_destroy_refuses_protected_resources_then_removes_the_rest(project):
    refused = project.run("destroy", "--stack", "local", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0
    assert "protected" in (refused.stdout + refused.stderr)
    assert "hlb-local-s3-tier1" in [b["Name"] for b in _s3(project.s3_port).list_buckets()["Buckets"]]
    project.run("state", "unprotect", "--stack", "local", "--all", "--yes")
    project.run("destroy", "--stack", "local", "--yes", "--skip-preview")
    assert "hlb-local-s3-tier1" not in [b["Name"] for b in _s3(project.s3_port).list_buckets()["Buckets"]]
    assert Path(project.dir / "rendered").exists()
