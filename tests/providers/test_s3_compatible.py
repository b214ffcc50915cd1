"""The s3-compatible dynamic provider against a real S3 server on loopback (moto, started by scripts/s3-server.sh)."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from providers.s3_compatible import (
    LIFECYCLE_RULE_ID,
    TYPE_TOKEN,
    Bucket,
    S3CompatibleError,
    S3CompatibleProvider,
    check_inputs,
)
from tests.mocks import RecordingMonitor
from tests.providers import wire_forms

REPO = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = REPO / "scripts" / "s3-server.sh"
CHECK_ENDPOINT = "http://minio.lan:9000"
"""Checks never call the server."""
CREDENTIALS = {"access_key_id": "hlb-test-key", "secret_access_key": "hlb-test-secret-do-not-print"}
ALL_CAPS = {"versioning": True, "lifecycle": True, "object_lock": True}


def _server(action: str, port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HLB_S3_PORT": str(port)}
    return subprocess.run([str(SERVER_SCRIPT), action], env=env, capture_output=True, text=True, timeout=90)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    # A fresh port per run: concurrent test runs and the local stack's server (9400) never share a server.
    port = _free_port()
    started = _server("start", port)
    assert started.returncode == 0, f"s3-server.sh start failed:\n{started.stdout}{started.stderr}"
    yield port
    stopped = _server("stop", port)
    assert stopped.returncode == 0, f"s3-server.sh stop failed:\n{stopped.stdout}{stopped.stderr}"
    for leftover in ("log", "lock"):
        (REPO / ".run" / f"s3-server-{port}.{leftover}").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def endpoint(server_port: int) -> str:
    return f"http://127.0.0.1:{server_port}"


@pytest.fixture(scope="module")
def s3(endpoint: str) -> BaseClient:
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key_id"], aws_secret_access_key=CREDENTIALS["secret_access_key"],
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


@pytest.fixture
def provider() -> S3CompatibleProvider:
    return S3CompatibleProvider()


def _name(label: str) -> str:
    return f"hlb-{label}-{uuid.uuid4().hex[:8]}"


def _inputs(endpoint: str, bucket: str, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "bucket": bucket,
        "endpoint": endpoint,
        "region": "us-east-1",
        "capabilities": dict(ALL_CAPS),
        "versioning": True,
        "lifecycle": {"noncurrent_days": 30, "abort_multipart_days": 7},
        "lock_days": 14,
        "tags": {"backup.homelab/tier": "1"},
        "credentials": dict(CREDENTIALS),
    }
    props.update(overrides)
    return props


def _expected_rule(noncurrent_days: int | None, abort_days: int, versioning: bool = True) -> dict[str, Any]:
    rule: dict[str, Any] = {"ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": abort_days}}
    if noncurrent_days is not None:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": noncurrent_days}
    if versioning:
        rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    return rule


def _server_rules(s3: BaseClient, bucket: str) -> list[dict[str, Any]]:
    return s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def _server_lock(s3: BaseClient, bucket: str) -> dict[str, Any]:
    return s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]


def _exists(s3: BaseClient, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def _put_locked_object(s3: BaseClient, bucket: str, key: str) -> str:
    # S3 (and moto) require Content-MD5 or a checksum header for uploads into a bucket with default retention.
    return s3.put_object(Bucket=bucket, Key=key, Body=b"snapshot", ChecksumAlgorithm="SHA256")["VersionId"]


# ------------------------------------------------------------------------------------------------ server script


def test_server_script_start_is_idempotent_and_status_reports_running(server_port: int, endpoint: str) -> None:
    again = _server("start", server_port)
    status = _server("status", server_port)
    assert again.returncode == 0 and "already running" in again.stderr
    assert status.returncode == 0 and status.stdout.startswith("running") and endpoint in status.stdout


# ------------------------------------------------------------------------------------------------ check


def test_check_accepts_a_valid_bucket(provider: S3CompatibleProvider) -> None:
    result = provider.check({}, _inputs(CHECK_ENDPOINT, "hlb-offsite-tier1"))
    assert result.failures == []


def test_check_fills_defaults(provider: S3CompatibleProvider) -> None:
    props = {"bucket": "hlb-minimal", "endpoint": CHECK_ENDPOINT, "capabilities": dict(ALL_CAPS),
             "credentials": dict(CREDENTIALS)}
    result = provider.check({}, props)
    assert result.failures == []
    assert {k: result.inputs[k] for k in ("region", "versioning", "lifecycle", "lock_days", "tags")} == {
        "region": "us-east-1", "versioning": False, "lifecycle": None, "lock_days": 0, "tags": {}}


def test_check_turns_whole_doubles_from_the_engine_into_ints(provider: S3CompatibleProvider) -> None:
    props = _inputs(CHECK_ENDPOINT, "hlb-doubles", lock_days=14.0,
                    lifecycle={"noncurrent_days": 30.0, "abort_multipart_days": 7.0})
    result = provider.check({}, props)
    assert result.failures == []
    assert (result.inputs["lock_days"], result.inputs["lifecycle"]) == (
        14, {"noncurrent_days": 30, "abort_multipart_days": 7})
    assert all(type(v) is int for v in (result.inputs["lock_days"], *result.inputs["lifecycle"].values()))


def test_check_reports_one_failure_per_bad_property() -> None:
    props = _inputs(
        "ftp://nas.lan/backups", "Backups_Tier1",
        region="",
        capabilities={"versioning": True, "lifecycle": True, "object_lock": False},
        versioning=False,
        lifecycle={"noncurrent_days": 0, "abort_multipart_days": -1},
        lock_days=5,
        tags={"backup.homelab/tier": 1},
        credentials={"access_key_id": "k", "secret_access_key": ""},
    )
    failures = [(f.property, f.reason) for f in check_inputs(props)]
    assert failures == [
        ("bucket", "may contain only lowercase letters, digits, dots and hyphens, got 'Backups_Tier1'"),
        ("endpoint", "must be http(s)://host[:port] without a path, got 'ftp://nas.lan/backups'"),
        ("region", "must be a non-empty region name (e.g. us-east-1), got ''"),
        ("lifecycle", "noncurrent_days must be a positive whole number of days or null, got 0; "
                      "abort_multipart_days must be a positive whole number of days, got -1"),
        ("lock_days", "the server flavour does not implement object lock (capabilities.object_lock is false); "
                      "use 0; object lock needs versioning: set versioning to true"),
        ("tags", "tag 'backup.homelab/tier' needs a string value of at most 256 characters"),
        ("credentials", "needs a non-empty secret_access_key"),
    ]


@pytest.mark.parametrize(("name", "reason"), [
    ("ab", "must be 3-63 characters long, got 2 ('ab')"),
    ("a" * 64, f"must be 3-63 characters long, got 64 ('{'a' * 64}')"),
    ("-backups", "must start and end with a lowercase letter or digit, got '-backups'"),
    ("back..ups", "must not contain '..', '.-' or '-.', got 'back..ups'"),
    ("192.168.1.10", "must not look like an IP address, got '192.168.1.10'"),
])
def test_check_bucket_name_rules(name: str, reason: str) -> None:
    assert [(f.property, f.reason) for f in check_inputs(_inputs(CHECK_ENDPOINT, name))] == [("bucket", reason)]


def test_check_refuses_features_the_flavour_lacks() -> None:
    props = _inputs(CHECK_ENDPOINT, "hlb-garage", lock_days=0,
                    capabilities={"versioning": False, "lifecycle": False, "object_lock": False})
    assert [(f.property, f.reason) for f in check_inputs(props)] == [
        ("versioning", "the server flavour does not implement versioning (capabilities.versioning is false)"),
        ("lifecycle", "the server flavour does not implement lifecycle rules (capabilities.lifecycle is false); "
                      "pass null"),
    ]


def test_check_refuses_noncurrent_expiry_without_versioning() -> None:
    props = _inputs(CHECK_ENDPOINT, "hlb-unversioned", versioning=False, lock_days=0)
    assert [(f.property, f.reason) for f in check_inputs(props)] == [
        ("lifecycle", "noncurrent_days needs versioning: without it there are no noncurrent versions to expire")]


def test_check_skips_unknowns_during_preview(provider: S3CompatibleProvider) -> None:
    props = _inputs(CHECK_ENDPOINT, Unknown(), lifecycle={"noncurrent_days": Unknown(), "abort_multipart_days": 7},
                    lock_days=rpc.UNKNOWN, tags=Unknown(), credentials=Unknown(), capabilities=Unknown())
    assert provider.check({}, props).failures == []


# ------------------------------------------------------------------------------------------------ create


def test_create_configures_versioning_lifecycle_lock_and_tags(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("create")
    # Numbers as the engine delivers them: doubles.
    result = provider.create(_inputs(endpoint, bucket, lock_days=14.0,
                                     lifecycle={"noncurrent_days": 30.0, "abort_multipart_days": 7.0}))

    assert result.id == bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = _server_rules(s3, bucket)
    assert rules == [_expected_rule(30, 7)]
    assert all("Days" not in r.get("Expiration", {}) and "Date" not in r.get("Expiration", {}) for r in rules), \
        "a lifecycle rule expires current objects"
    lock = _server_lock(s3, bucket)
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert {k: v for k, v in lock["Rule"]["DefaultRetention"].items() if v} == {"Mode": "GOVERNANCE", "Days": 14}
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "backup.homelab/tier", "Value": "1"}]
    outs = result.outs or {}
    assert {k: outs[k] for k in ("versioning", "versioning_status", "lifecycle", "lifecycle_rules", "lock_days",
                                 "object_lock_enabled", "lock_mode", "tags")} == {
        "versioning": True, "versioning_status": "Enabled",
        "lifecycle": {"noncurrent_days": 30, "abort_multipart_days": 7},
        "lifecycle_rules": [_expected_rule(30, 7)], "lock_days": 14, "object_lock_enabled": True,
        "lock_mode": "GOVERNANCE", "tags": {"backup.homelab/tier": "1"}}


def test_create_plain_bucket_without_versioning_or_lock(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("plain")
    provider.create(_inputs(endpoint, bucket, versioning=False, lock_days=0, tags={},
                            lifecycle={"noncurrent_days": None, "abort_multipart_days": 7}))

    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    assert _server_rules(s3, bucket) == [_expected_rule(None, 7, versioning=False)]
    with pytest.raises(ClientError, match="ObjectLockConfigurationNotFound"):
        s3.get_object_lock_configuration(Bucket=bucket)


def test_create_refuses_an_existing_bucket_and_leaves_it_alone(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("taken")
    s3.create_bucket(Bucket=bucket)

    with pytest.raises(S3CompatibleError) as err:
        provider.create(_inputs(endpoint, bucket))

    assert str(err.value) == (
        f"bucket '{bucket}' already exists at {endpoint}, and it is never taken over silently: choose another "
        "bucket_prefix for the destination in the inventory, or, if the bucket is a leftover of this stack, check "
        "what it holds, delete it and run `pulumi up` again. `pulumi import` cannot adopt it (the engine reads "
        "without the dynamic provider); `Bucket.get` reads it without managing it")
    assert _exists(s3, bucket)


def test_create_removes_the_bucket_when_configuration_fails(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("rollback")

    with pytest.raises(S3CompatibleError) as err:
        provider.create(_inputs(endpoint, bucket, tags={"aws:reserved": "x"}))

    assert str(err.value) == (
        f"configuring new bucket '{bucket}' at {endpoint} failed, so it was removed again (nothing half-configured "
        f"is left): the server refused to tag bucket '{bucket}' at {endpoint} "
        "(InvalidTag: System tags cannot be added/updated by requester)")
    assert not _exists(s3, bucket)


# ------------------------------------------------------------------------------------------------ diff


@pytest.fixture(scope="module")
def locked_outs(endpoint: str) -> dict[str, Any]:
    return S3CompatibleProvider().create(_inputs(endpoint, _name("difflocked"))).outs or {}


@pytest.fixture(scope="module")
def unlocked_outs(endpoint: str) -> dict[str, Any]:
    return S3CompatibleProvider().create(_inputs(endpoint, _name("diffplain"), lock_days=0)).outs or {}


def _news(outs: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**{k: outs[k] for k in ("bucket", "endpoint", "region", "capabilities", "versioning", "lifecycle",
                                    "lock_days", "tags", "credentials")}, **changes}


def test_diff_of_unchanged_inputs_is_empty(locked_outs: dict[str, Any], provider: S3CompatibleProvider) -> None:
    result = provider.diff(locked_outs["bucket"], locked_outs, _news(locked_outs))
    assert (result.changes, result.replaces) == (False, [])


@pytest.mark.parametrize(("change", "replaces"), [
    ({"bucket": "hlb-other-name"}, ["bucket"]),
    ({"endpoint": "http://127.0.0.1:9999"}, ["endpoint"]),
    ({"bucket": Unknown()}, ["bucket"]),
    ({"region": "eu-central-1"}, []),
    ({"versioning": False, "lock_days": 0, "lifecycle": {"noncurrent_days": None, "abort_multipart_days": 7}}, []),
    ({"lifecycle": {"noncurrent_days": 60, "abort_multipart_days": 7}}, []),
    ({"lifecycle": {"noncurrent_days": 30, "abort_multipart_days": 3}}, []),
    ({"lifecycle": None}, []),
    ({"lifecycle": Unknown()}, []),
    ({"lock_days": 7}, []),
    ({"lock_days": 0}, []),
    ({"tags": {"backup.homelab/tier": "2"}}, []),
    ({"credentials": {"access_key_id": "rotated", "secret_access_key": "rotated"}}, []),
    ({"capabilities": {"versioning": True, "lifecycle": True, "object_lock": False}}, []),
])
def test_diff_on_a_locked_bucket(
        locked_outs: dict[str, Any], provider: S3CompatibleProvider, change: dict[str, Any],
        replaces: list[str]) -> None:
    result = provider.diff(locked_outs["bucket"], locked_outs, _news(locked_outs, **change))
    assert (result.changes, result.replaces, bool(result.delete_before_replace)) == (True, replaces, False)


def test_diff_enabling_lock_on_an_existing_bucket_replaces_it(
        unlocked_outs: dict[str, Any], provider: S3CompatibleProvider) -> None:
    result = provider.diff(unlocked_outs["bucket"], unlocked_outs, _news(unlocked_outs, lock_days=7))
    # Same name on the same server: the old bucket has to go first (and refuses while backups are inside).
    assert (result.changes, result.replaces, result.delete_before_replace) == (True, ["lock_days"], True)


# ------------------------------------------------------------------------------------------------ update


def test_update_changes_lifecycle_and_tags_in_place(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("update")
    olds = provider.create(_inputs(endpoint, bucket, lock_days=0)).outs or {}
    s3.put_object(Bucket=bucket, Key="restic/config", Body=b"repo")
    news = _inputs(endpoint, bucket, lock_days=0, lifecycle={"noncurrent_days": 60, "abort_multipart_days": 3},
                   tags={"backup.homelab/tier": "2"})

    outs = provider.update(bucket, olds, news).outs or {}

    assert _server_rules(s3, bucket) == [_expected_rule(60, 3)]
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "backup.homelab/tier", "Value": "2"}]
    assert s3.get_object(Bucket=bucket, Key="restic/config")["Body"].read() == b"repo", "bucket was recreated"
    assert outs["lifecycle"] == {"noncurrent_days": 60, "abort_multipart_days": 3}
    assert provider.diff(bucket, outs, news).changes is False


def test_update_removes_lifecycle_and_suspends_versioning(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("suspend")
    olds = provider.create(_inputs(endpoint, bucket, lock_days=0)).outs or {}

    outs = provider.update(bucket, olds, _inputs(endpoint, bucket, lock_days=0, versioning=False,
                                                 lifecycle=None)).outs or {}

    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert (outs["versioning"], outs["versioning_status"], outs["lifecycle_rules"]) == (False, "Suspended", [])


def test_update_changes_default_retention_in_place(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("relock")
    olds = provider.create(_inputs(endpoint, bucket, lock_days=14)).outs or {}

    outs = provider.update(bucket, olds, _inputs(endpoint, bucket, lock_days=5)).outs or {}

    retention = _server_lock(s3, bucket)["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"], outs["lock_days"]) == ("GOVERNANCE", 5, 5)


# ------------------------------------------------------------------------------------------------ read, drift, import


def test_read_reports_lifecycle_drift_and_diff_flags_it(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("drift")
    declared = _inputs(endpoint, bucket, lock_days=0)
    outs = provider.create(declared).outs or {}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {**_expected_rule(5, 7), "ID": LIFECYCLE_RULE_ID}]})

    read = provider.read(bucket, outs)

    assert read.id == bucket
    assert read.outs["lifecycle_rules"] == [_expected_rule(5, 7)]
    assert (read.inputs or {})["lifecycle"] == {"noncurrent_days": 5, "abort_multipart_days": 7}
    diff = provider.diff(bucket, read.outs, declared)
    assert (diff.changes, diff.replaces) == (True, [])
    provider.update(bucket, read.outs, declared)
    assert _server_rules(s3, bucket) == [_expected_rule(30, 7)]


def test_read_flags_a_foreign_rule_that_expires_current_objects(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("expiry")
    declared = _inputs(endpoint, bucket, lock_days=0)
    outs = provider.create(declared).outs or {}
    foreign = {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [foreign]})

    read = provider.read(bucket, outs)

    assert (read.outs["lifecycle"], read.outs["lifecycle_rules"]) == (None, [foreign])
    assert provider.diff(bucket, read.outs, declared).changes is True


def test_read_reports_versioning_drift(endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("vdrift")
    declared = _inputs(endpoint, bucket, lock_days=0)
    outs = provider.create(declared).outs or {}
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    read = provider.read(bucket, outs)

    assert (read.outs["versioning"], read.outs["versioning_status"]) == (False, "Suspended")
    assert provider.diff(bucket, read.outs, declared).changes is True


def test_import_by_bucket_name(endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("import")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 14}}})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [_expected_rule(30, 7)]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "backup.homelab/tier", "Value": "1"}]})

    read = provider.read(bucket, {"endpoint": endpoint, "capabilities": dict(ALL_CAPS),
                                  "credentials": dict(CREDENTIALS)})

    assert read.id == bucket
    assert read.inputs == _inputs(endpoint, bucket)
    assert provider.diff(bucket, read.outs, _inputs(endpoint, bucket)).changes is False


def test_read_of_a_missing_bucket_drops_it(endpoint: str, provider: S3CompatibleProvider) -> None:
    read = provider.read("hlb-never-created", _inputs(endpoint, "hlb-never-created"))
    assert (read.id, read.outs) == ("", {})


# ------------------------------------------------------------------------------------------------ delete, lock


def test_delete_of_an_empty_bucket_twice(endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("delete")
    outs = provider.create(_inputs(endpoint, bucket, lock_days=0)).outs or {}

    provider.delete(bucket, outs)
    provider.delete(bucket, outs)

    assert not _exists(s3, bucket)


def test_delete_refuses_a_bucket_that_still_holds_backups(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("full")
    outs = provider.create(_inputs(endpoint, bucket, lock_days=0)).outs or {}
    s3.put_object(Bucket=bucket, Key="kopia/p0001", Body=b"pack")
    s3.delete_object(Bucket=bucket, Key="kopia/p0001")

    with pytest.raises(S3CompatibleError) as err:
        provider.delete(bucket, outs)

    assert str(err.value) == (
        f"refusing to delete bucket '{bucket}' at {endpoint}: backups are still inside (2 object versions and "
        "delete markers), and buckets holding backups are never emptied automatically. To keep them, protect the "
        "resource or drop it from the stack without deleting (`pulumi state delete <urn>`); to really remove them, "
        "empty the bucket yourself (every version and delete marker; locked versions only once their retention "
        "ends) and run the delete again")
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1


def test_a_locked_version_cannot_be_deleted_before_its_retention_ends(
        endpoint: str, s3: BaseClient, provider: S3CompatibleProvider) -> None:
    bucket = _name("locked")
    provider.create(_inputs(endpoint, bucket, lock_days=1))
    version = _put_locked_object(s3, bucket, "pgbackrest/archive/000000010000000000000001")
    head = s3.head_object(Bucket=bucket, Key="pgbackrest/archive/000000010000000000000001", VersionId=version)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)

    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="pgbackrest/archive/000000010000000000000001", VersionId=version)

    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == [version]
    s3.delete_object(Bucket=bucket, Key="pgbackrest/archive/000000010000000000000001", VersionId=version,
                     BypassGovernanceRetention=True)
    provider.delete(bucket, {"bucket": bucket, "endpoint": endpoint, "credentials": dict(CREDENTIALS)})
    assert not _exists(s3, bucket)


# ------------------------------------------------------------------------------------------------ errors


def test_unreachable_endpoint_gives_a_clear_error(provider: S3CompatibleProvider) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"

    with pytest.raises(S3CompatibleError) as err:
        provider.create(_inputs(endpoint, "hlb-unreachable"))

    assert str(err.value) == (
        f"cannot reach the S3 endpoint {endpoint} to check for an existing bucket 'hlb-unreachable' at {endpoint}: "
        "check the endpoint URL and that the server is running and reachable (local stack: scripts/s3-server.sh "
        "start)")


def test_invalid_inputs_are_refused_before_any_call(provider: S3CompatibleProvider) -> None:
    with pytest.raises(S3CompatibleError, match=r"^invalid inputs: bucket: must be 3-63 characters long"):
        provider.create(_inputs("http://127.0.0.1:1", "ab"))


# ------------------------------------------------------------------------------------------------ pickling, mocks


def test_provider_pickles_without_clients_or_credentials(
        endpoint: str, provider: S3CompatibleProvider) -> None:
    provider.create(_inputs(endpoint, _name("pickle"), lock_days=0))

    assert vars(provider) == {}
    assert isinstance(pickle.loads(pickle.dumps(provider)), S3CompatibleProvider)
    assert serialize_provider(provider)


def test_bucket_registers_its_own_type_and_keeps_credentials_secret(mocked: RecordingMonitor) -> None:
    verified: list[str] = []

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        bucket = Bucket("offsite-tier1", bucket="hlb-offsite-tier1", endpoint="http://127.0.0.1:9400",
                        capabilities=dict(ALL_CAPS), credentials=dict(CREDENTIALS), versioning=True,
                        lifecycle={"noncurrent_days": 30, "abort_multipart_days": 7}, lock_days=14)
        plain = [bucket.bucket, bucket.endpoint, bucket.region, bucket.capabilities, bucket.versioning,
                 bucket.lifecycle, bucket.lock_days, bucket.tags]

        async def verify(_: Any) -> None:
            urn = await bucket.urn.future()
            assert await bucket.credentials.is_secret(), f"{urn}: credentials output is not secret"
            for output in plain:
                assert not await output.is_secret(), f"{urn}: a plain output became secret"
                assert CREDENTIALS["secret_access_key"] not in repr(await output.future()), \
                    f"{urn}: the secret key leaked into a plain output"
            verified.append(urn)

        return bucket.urn.apply(verify)

    program()

    assert len(verified) == 1, "the output checks never ran"
    request = mocked.registered()["offsite-tier1"]
    assert request.type == TYPE_TOKEN == "pulumi-python:dynamic/s3compatible:Bucket"
    assert list(request.additionalSecretOutputs) == ["credentials"], f"{request.name}: credentials not a secret output"
    args = next(a for a in mocked.mocks.created if a.typ == TYPE_TOKEN)
    assert rpc.is_rpc_secret(args.inputs["credentials"]), f"{args.name}: credentials input is not a secret"
    assert CREDENTIALS["secret_access_key"] not in repr(
        {k: v for k, v in args.inputs.items() if k not in ("credentials", "__provider")})


def test_get_reads_an_existing_bucket_by_name_with_its_credentials_secret(mocked: RecordingMonitor) -> None:
    read: list[tuple[str, bool]] = []

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        bucket = Bucket.get("existing", "hlb-nas-s3-tier1", endpoint="http://127.0.0.1:9400",
                            credentials=dict(CREDENTIALS))

        async def verify(_: Any) -> None:
            read.append((await bucket.id.future(), await bucket.credentials.is_secret()))

        return bucket.urn.apply(verify)

    program()

    assert read == [("hlb-nas-s3-tier1", True)]
    request = mocked.read()["existing"]
    assert (request.type, request.id, list(request.additionalSecretOutputs)) == (
        TYPE_TOKEN, "hlb-nas-s3-tier1", ["credentials"])
    assert "existing" not in mocked.registered(), "a read must not register a managed bucket"


# --- requests captured from real previews (tests/providers/wire_forms) ------------------------------------------

CAPTURED_CHECKS = wire_forms.of_type("s3compatible:Bucket", "Check")
CAPTURED_DIFFS = wire_forms.of_type("s3compatible:Bucket", "Diff")


def test_real_previews_were_captured() -> None:
    assert {r["step"] for r in CAPTURED_CHECKS} >= {"preview-empty"}
    assert {r["step"] for r in CAPTURED_DIFFS} >= set(wire_forms.NO_CHANGE_STEPS)


@pytest.mark.parametrize("record", CAPTURED_CHECKS, ids=wire_forms.record_id)
def test_check_accepts_what_a_real_preview_sends(provider: S3CompatibleProvider, record: dict[str, Any]) -> None:
    result = wire_forms.check(provider, record)
    assert [(f.property, f.reason) for f in result.failures] == []


@pytest.mark.parametrize("record", CAPTURED_DIFFS, ids=wire_forms.record_id)
def test_diff_of_what_a_real_preview_sends(provider: S3CompatibleProvider, record: dict[str, Any]) -> None:
    """The wire's doubles (lock_days 14.0, noncurrent_days 15.0) must not read as a change after `up`."""
    result = wire_forms.diff(provider, record)
    # Nothing about the buckets changes in any captured step, so only an unknown could be a change.
    assert (result.changes, result.replaces) == (wire_forms.has_unknowns(record["news"]), [])
