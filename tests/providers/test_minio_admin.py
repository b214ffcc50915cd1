"""Per-tool MinIO identities against a real MinIO server (TLS, private CA) on loopback.

A writer key reads and writes its own prefix and nothing else; a reader key only reads; the provider keeps the
whole dynamic-provider contract (check, diff, create all-or-nothing, read with drift, update, delete).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from minio.credentials import StaticProvider
from minio.error import MinioAdminException
from minio.minioadmin import MinioAdmin
from pulumi.runtime import rpc

from plan.capabilities import S3_REFUSED_ACTIONS
from providers.minio_admin import MinioAdminError, MinioUserProvider, check_inputs, policy_name, user_policy
from tests.minio_server import MinioServer, minio_server

BUCKET, OTHER_BUCKET = "hlb-nas-s3-tier1", "hlb-nas-s3-tier2"
PREFIX, OTHER_PREFIX = "immich-db-pgbackrest", "vaultwarden-restic"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    try:
        with minio_server(tmp_path_factory.mktemp("minio")) as running:
            admin = running.s3(running.root)
            for bucket in (BUCKET, OTHER_BUCKET):
                admin.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            # As the program sets up a tier 1 bucket: every new version locked in governance mode.
            admin.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
            admin.put_object(Bucket=BUCKET, Key=f"{OTHER_PREFIX}/config", Body=b"other dataset")
            admin.put_object(Bucket=OTHER_BUCKET, Key=f"{PREFIX}/x", Body=b"other tier")
            yield running
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def props(server: MinioServer, user: str, access: str = "write", **extra: Any) -> dict[str, Any]:
    return {"user_name": user, "endpoint": server.endpoint, "bucket": BUCKET, "prefix": PREFIX, "access": access,
            "ca_file": str(server.certificates.ca), "credentials": dict(server.root), **extra}


def admin_client(server: MinioServer, creds: dict[str, str]) -> MinioAdmin:
    import urllib3

    return MinioAdmin(endpoint=server.endpoint.removeprefix("https://"),
                      credentials=StaticProvider(creds["access_key_id"], creds["secret_access_key"]),
                      http_client=urllib3.PoolManager(ca_certs=str(server.certificates.ca),
                                                      retries=urllib3.Retry(total=0)))


def denied(call, *args, **kwargs) -> str:
    """Run an S3 call that must be refused; returns the error code."""
    with pytest.raises(ClientError) as refused:
        call(*args, **kwargs)
    error = refused.value.response["Error"]
    return error["Code"] if error["Code"] == "AccessDenied" else f"{error['Code']}: {error.get('Message')}"


@pytest.fixture(scope="module")
def writer(server: MinioServer) -> Iterator[dict[str, Any]]:
    provider = MinioUserProvider()
    created = provider.create(props(server, "hlb-test-writer"))
    yield created.outs
    provider.delete(created.id, created.outs)


@pytest.fixture(scope="module")
def reader(server: MinioServer) -> Iterator[dict[str, Any]]:
    provider = MinioUserProvider()
    created = provider.create(props(server, "hlb-test-reader", access="read"))
    yield created.outs
    provider.delete(created.id, created.outs)


def key_of(outs: dict[str, Any]) -> dict[str, str]:
    return {"access_key_id": outs["access_key_id"], "secret_access_key": outs["secret_access_key"]}


# --- what the keys can do --------------------------------------------------------------------------------------


def test_writer_reads_writes_lists_and_deletes_its_own_prefix(server, writer):
    s3 = server.s3(key_of(writer))
    s3.head_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/archive/000001", Body=b"wal")
    assert s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/archive/000001")["Body"].read() == b"wal"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"{PREFIX}/archive/000001"]
    root = s3.list_objects_v2(Bucket=BUCKET, Prefix="", Delimiter="/")
    assert {p["Prefix"] for p in root.get("CommonPrefixes", [])} >= {f"{PREFIX}/"}
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=f"{PREFIX}/big")
    s3.abort_multipart_upload(Bucket=BUCKET, Key=f"{PREFIX}/big", UploadId=upload["UploadId"])
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/archive/000001")


def test_writer_is_refused_everything_outside_its_prefix(server, writer):
    s3 = server.s3(key_of(writer))
    assert denied(s3.get_object, Bucket=BUCKET, Key=f"{OTHER_PREFIX}/config") == "AccessDenied"
    assert denied(s3.put_object, Bucket=BUCKET, Key=f"{OTHER_PREFIX}/evil", Body=b"x") == "AccessDenied"
    assert denied(s3.delete_object, Bucket=BUCKET, Key=f"{OTHER_PREFIX}/config") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=BUCKET, Prefix=f"{OTHER_PREFIX}/") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=BUCKET) == "AccessDenied"
    assert denied(s3.put_object, Bucket=BUCKET, Key="top-level", Body=b"x") == "AccessDenied"


def test_writer_is_refused_other_buckets(server, writer):
    s3 = server.s3(key_of(writer))
    assert denied(s3.get_object, Bucket=OTHER_BUCKET, Key=f"{PREFIX}/x") == "AccessDenied"
    assert denied(s3.put_object, Bucket=OTHER_BUCKET, Key=f"{PREFIX}/y", Body=b"x") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=OTHER_BUCKET, Prefix=f"{PREFIX}/") == "AccessDenied"
    assert denied(s3.create_bucket, Bucket="hlb-writer-made") == "AccessDenied"


def test_writer_is_refused_bucket_configuration_and_lock_changes(server, writer):
    s3 = server.s3(key_of(writer))
    lifecycle = {"Rules": [{"ID": "wipe", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}
    assert denied(s3.put_bucket_lifecycle_configuration, Bucket=BUCKET,
                  LifecycleConfiguration=lifecycle) == "AccessDenied"
    assert denied(s3.put_object_lock_configuration, Bucket=BUCKET,
                  ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}) == "AccessDenied"
    assert denied(s3.put_bucket_versioning, Bucket=BUCKET,
                  VersioningConfiguration={"Status": "Suspended"}) == "AccessDenied"
    assert denied(s3.put_bucket_policy, Bucket=BUCKET, Policy=json.dumps(user_policy(BUCKET, "x", "write"))) \
        == "AccessDenied"
    assert denied(s3.delete_bucket, Bucket=BUCKET) == "AccessDenied"
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/locked", Body=b"x")
    # Neither lengthening (billing attack) nor governance bypass (deleting locked versions) is allowed.
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    # MinIO checks the lock before the policy for a plain retention change; with the bypass header it asks the
    # policy for s3:BypassGovernanceRetention, which the identity lacks.
    assert denied(s3.put_object_retention, Bucket=BUCKET, Key=f"{PREFIX}/locked", BypassGovernanceRetention=True,
                  Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later}) == "AccessDenied"
    assert denied(s3.put_object_retention, Bucket=BUCKET, Key=f"{PREFIX}/locked",
                  Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later}) in (
        "AccessDenied", "InvalidRequest: Object is WORM protected and cannot be overwritten")
    assert denied(s3.put_object_legal_hold, Bucket=BUCKET, Key=f"{PREFIX}/locked",
                  LegalHold={"Status": "ON"}) == "AccessDenied"
    version = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/locked")["VersionId"]
    assert denied(s3.delete_object, Bucket=BUCKET, Key=f"{PREFIX}/locked", VersionId=version,
                  BypassGovernanceRetention=True) == "AccessDenied"
    # Without the bypass the lock itself refuses: MinIO's s3:DeleteObject covers versions, so on an unlocked
    # bucket a writer could destroy old versions (README, threat model).
    assert denied(s3.delete_object, Bucket=BUCKET, Key=f"{PREFIX}/locked", VersionId=version) == \
        "InvalidRequest: Object is WORM protected and cannot be overwritten"
    # A plain delete only adds a delete marker: the locked version stays readable by version id.
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/locked")
    assert s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/locked", VersionId=version)["Body"].read() == b"x"


def test_no_identity_policy_holds_a_refused_action():
    for access in ("write", "read"):
        actions = {a for st in user_policy(BUCKET, PREFIX, access)["Statement"] for a in st["Action"]}
        assert not actions & set(S3_REFUSED_ACTIONS), access
        assert not any(a.endswith("*") for a in actions), access


def test_writer_is_refused_user_management(server, writer):
    admin = admin_client(server, key_of(writer))
    for call in (lambda: admin.user_list(), lambda: admin.user_add("hlb-thief", "thief-secret-123"),
                 lambda: admin.policy_add("hlb-thief", policy=user_policy(BUCKET, "x", "write")),
                 lambda: admin.attach_policy(["consoleAdmin"], user=writer["access_key_id"])):
        with pytest.raises(MinioAdminException) as refused:
            call()
        assert refused.value._code == "403"


def test_reader_can_only_read_its_prefix(server, writer, reader):
    server.s3(key_of(writer)).put_object(Bucket=BUCKET, Key=f"{PREFIX}/data/1", Body=b"backup")
    s3 = server.s3(key_of(reader))
    s3.head_bucket(Bucket=BUCKET)
    assert s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/data/1")["Body"].read() == b"backup"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/data/")["Contents"]] == [
        f"{PREFIX}/data/1"]
    assert denied(s3.put_object, Bucket=BUCKET, Key=f"{PREFIX}/data/2", Body=b"x") == "AccessDenied"
    assert denied(s3.delete_object, Bucket=BUCKET, Key=f"{PREFIX}/data/1") == "AccessDenied"
    assert denied(s3.get_object, Bucket=BUCKET, Key=f"{OTHER_PREFIX}/config") == "AccessDenied"
    with pytest.raises(MinioAdminException):
        admin_client(server, key_of(reader)).user_list()


# --- the provider contract --------------------------------------------------------------------------------------


def test_outputs_hold_a_generated_secret_and_the_one_attached_policy(writer):
    assert writer["access_key_id"] == "hlb-test-writer"
    assert len(writer["secret_access_key"]) == 40
    assert writer["attached_policies"] == [policy_name("hlb-test-writer")]
    assert writer["status"] == "enabled" and writer["access"] == "write"


def test_check_names_each_bad_field_and_lets_unknowns_through(server):
    bad = props(server, "x", access="admin", prefix="", bucket="B", endpoint="ftp://h/x",
                credentials={"access_key_id": "", "secret_access_key": "s"})
    failures = {f.property: f.reason for f in check_inputs(bad)}
    assert set(failures) == {"user_name", "endpoint", "bucket", "prefix", "access", "credentials"}
    assert "whole bucket" in failures["prefix"] and "access_key_id" in failures["credentials"]
    unknown = {k: rpc.UNKNOWN for k in props(server, "u")}
    assert check_inputs(unknown) == []


def test_check_refuses_the_admin_key_as_the_tool_identity(server):
    failures = check_inputs(props(server, server.root["access_key_id"]))
    assert [(f.property, f.reason) for f in failures] == [
        ("user_name", "equals the admin access key: a tool identity must be a separate user")]


def test_diff_replaces_on_name_or_server_and_updates_in_place_otherwise(server, writer):
    provider = MinioUserProvider()
    assert not provider.diff("w", writer, props(server, "hlb-test-writer")).changes
    moved = provider.diff("w", writer, props(server, "hlb-test-writer", prefix="elsewhere"))
    assert moved.changes and moved.replaces == []
    renamed = provider.diff("w", writer, props(server, "hlb-test-writer2"))
    assert renamed.replaces == ["user_name"]
    preview = provider.diff("w", writer, props(server, rpc.UNKNOWN))
    assert preview.replaces == ["user_name"]


def test_read_reports_a_policy_widened_on_the_server_and_update_narrows_it_again(server):
    provider = MinioUserProvider()
    created = provider.create(props(server, "hlb-test-drift"))
    try:
        admin = admin_client(server, server.root)
        admin.policy_add(policy_name("hlb-test-drift"), policy=user_policy(BUCKET, OTHER_PREFIX, "write"))
        refreshed = provider.read(created.id, created.outs)
        assert refreshed.outs["access"] == "drifted"
        assert provider.diff(created.id, refreshed.outs, props(server, "hlb-test-drift")).changes
        updated = provider.update(created.id, refreshed.outs, props(server, "hlb-test-drift"))
        assert updated.outs["access"] == "write"
        assert updated.outs["secret_access_key"] == created.outs["secret_access_key"]
        s3 = server.s3(key_of(created.outs))
        assert denied(s3.get_object, Bucket=BUCKET, Key=f"{OTHER_PREFIX}/config") == "AccessDenied"
    finally:
        provider.delete(created.id, created.outs)


def test_update_moves_the_identity_to_a_new_prefix_in_place(server):
    provider = MinioUserProvider()
    created = provider.create(props(server, "hlb-test-move"))
    try:
        moved = provider.update(created.id, created.outs, props(server, "hlb-test-move", prefix="moved"))
        s3 = server.s3(key_of(moved.outs))
        s3.put_object(Bucket=BUCKET, Key="moved/ok", Body=b"x")
        assert denied(s3.put_object, Bucket=BUCKET, Key=f"{PREFIX}/no", Body=b"x") == "AccessDenied"
    finally:
        provider.delete(created.id, created.outs)


def test_a_user_deleted_on_the_server_reads_as_gone_and_delete_tolerates_it(server):
    provider = MinioUserProvider()
    created = provider.create(props(server, "hlb-test-gone"))
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == ""
    provider.delete(created.id, created.outs)
    assert "hlb-test-gone" not in json.loads(admin_client(server, server.root).user_list())


def test_an_existing_user_is_never_taken_over(server, writer):
    with pytest.raises(MinioAdminError, match="already exists.*never taken over"):
        MinioUserProvider().create(props(server, "hlb-test-writer"))
    s3 = server.s3(key_of(writer))
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/still-works", Body=b"x")


def test_a_wrong_admin_key_fails_cleanly_and_leaves_nothing(server):
    wrong = {"access_key_id": server.root["access_key_id"], "secret_access_key": "not-the-secret"}
    with pytest.raises(MinioAdminError) as failed:
        MinioUserProvider().create(props(server, "hlb-test-denied", credentials=wrong))
    message = str(failed.value)
    assert "refused the admin key" in message and "credentials.<destination>" in message
    assert "not-the-secret" not in message
    assert "hlb-test-denied" not in json.loads(admin_client(server, server.root).user_list())


def test_an_untrusted_certificate_is_refused_with_the_ca_fix(server, tmp_path: Path):
    with pytest.raises(MinioAdminError, match="private CA the destination's ca_file"):
        MinioUserProvider().create(props(server, "hlb-test-tls", ca_file=None))
