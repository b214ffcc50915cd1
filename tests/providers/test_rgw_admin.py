"""Ceph RGW per-writer users and the bucket policy that scopes them, against the RGW stand-in (tests/rgw_standin):
what a writer and a reader key may do, drift read back and repaired, all-or-nothing create, clean errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from pulumi.dynamic import Config, ConfigureRequest

from providers.rgw_admin import (
    NO_BUCKETS,
    RgwAdminError,
    RgwBucketPolicyProvider,
    RgwUserProvider,
    bucket_policy,
    principal,
)
from tests.rgw_standin.server import ADMIN, rgw_gateway

BUCKET = "hlb-ceph-tier1"


@pytest.fixture
def rgw():
    with rgw_gateway() as (endpoint, gateway):
        _s3(endpoint, ADMIN).create_bucket(Bucket=BUCKET)
        _s3(endpoint, ADMIN).create_bucket(Bucket="hlb-ceph-tier2")
        yield endpoint, gateway


def _s3(endpoint: str, key: dict[str, str]):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"],
                        config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required"))


def _user(endpoint: str, **overrides: Any) -> dict[str, Any]:
    return {"uid": f"{BUCKET}-photos-{uuid.uuid4().hex[:6]}", "endpoint": endpoint, "region": "us-east-1",
            "ca_file": None, "credentials": dict(ADMIN), **overrides}


def _policy(endpoint: str, grants: list[dict[str, str]], **overrides: Any) -> dict[str, Any]:
    return {"bucket": BUCKET, "endpoint": endpoint, "region": "us-east-1", "grants": grants, "ca_file": None,
            "credentials": dict(ADMIN), **overrides}


def _key(outs: dict[str, Any]) -> dict[str, str]:
    return {"access_key_id": outs["access_key_id"], "secret_access_key": outs["secret_access_key"]}


def _code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def test_writer_and_reader_reach_their_prefix_only_through_the_bucket_policy(rgw):
    endpoint, gateway = rgw
    users = RgwUserProvider()
    writer = users.create(_user(endpoint)).outs
    reader = users.create(_user(endpoint)).outs
    w, r = _s3(endpoint, _key(writer)), _s3(endpoint, _key(reader))
    assert _code(w.put_object, Bucket=BUCKET, Key="photos-restic/config", Body=b"x") == "AccessDenied"
    grants = [{"uid": writer["uid"], "prefix": "photos-restic", "access": "write"},
              {"uid": reader["uid"], "prefix": "photos-restic", "access": "read"}]
    outs = RgwBucketPolicyProvider().create(_policy(endpoint, grants)).outs
    assert outs["policy"] == bucket_policy(BUCKET, grants) and outs["grants"] == grants
    w.put_object(Bucket=BUCKET, Key="photos-restic/config", Body=b"repo")
    assert r.get_object(Bucket=BUCKET, Key="photos-restic/config")["Body"].read() == b"repo"
    assert _code(r.put_object, Bucket=BUCKET, Key="photos-restic/x", Body=b"x") == "AccessDenied"
    assert _code(r.delete_object, Bucket=BUCKET, Key="photos-restic/config") == "AccessDenied"
    assert _code(w.put_object, Bucket=BUCKET, Key="vault-restic/config", Body=b"x") == "AccessDenied"
    assert _code(w.put_object, Bucket="hlb-ceph-tier2", Key="photos-restic/c", Body=b"x") == "AccessDenied"
    assert _code(w.put_bucket_policy, Bucket=BUCKET, Policy="{}") == "AccessDenied"
    assert _code(w.put_bucket_versioning, Bucket=BUCKET,
                 VersioningConfiguration={"Status": "Suspended"}) == "AccessDenied"
    assert _code(w.create_bucket, Bucket="hlb-thief") == "AccessDenied"
    w.delete_object(Bucket=BUCKET, Key="photos-restic/config")
    assert gateway.buckets[BUCKET]["objects"] == {}


def test_tool_users_hold_no_caps_no_buckets_and_cannot_use_admin_ops(rgw):
    endpoint, gateway = rgw
    outs = RgwUserProvider().create(_user(endpoint)).outs
    assert (outs["caps"], outs["max_buckets"], outs["suspended"], outs["key_present"]) == ([], NO_BUCKETS, False,
                                                                                            True)
    assert gateway.users[outs["uid"]]["display_name"] == f"homelab-backups {outs['uid']}"
    with pytest.raises(RgwAdminError, match=r"refused the admin key \(AccessDenied\)"):
        RgwUserProvider().create(_user(endpoint, credentials=_key(outs)))


def test_powers_granted_on_the_server_are_drift_that_update_removes(rgw):
    endpoint, gateway = rgw
    provider = RgwUserProvider()
    props = _user(endpoint)
    outs = provider.create(props).outs
    user = gateway.users[props["uid"]]
    user["caps"].append({"type": "users", "perm": "*"})
    user["subusers"].append({"id": f"{props['uid']}:swift", "permissions": "full-control"})
    gateway.new_key(user)
    user["max_buckets"] = 1000
    read = provider.read(props["uid"], outs).outs
    assert read["caps"] == ["users=*"] and len(read["other_keys"]) == 1 and read["max_buckets"] == 1000
    assert provider.diff(props["uid"], read, props).changes is True
    repaired = provider.update(props["uid"], read, props).outs
    assert (repaired["caps"], repaired["other_keys"], repaired["subusers"], repaired["max_buckets"]) == (
        [], [], [], NO_BUCKETS)
    assert repaired["access_key_id"] == outs["access_key_id"] and repaired["key_present"] is True
    assert provider.diff(props["uid"], repaired, props).changes is False


def test_user_removed_on_the_server_reads_as_gone_and_delete_tolerates_it(rgw):
    endpoint, gateway = rgw
    provider = RgwUserProvider()
    props = _user(endpoint)
    outs = provider.create(props).outs
    provider.delete(props["uid"], outs)
    assert props["uid"] not in gateway.users
    assert provider.read(props["uid"], outs).id == ""
    provider.delete(props["uid"], outs)


def test_an_existing_user_is_never_taken_over(rgw):
    endpoint, gateway = rgw
    props = _user(endpoint)
    gateway.add_user(props["uid"])
    keys_before = list(gateway.users[props["uid"]]["keys"])
    with pytest.raises(RgwAdminError, match="already exists: it is never taken over"):
        RgwUserProvider().create(props)
    assert gateway.users[props["uid"]]["keys"] == keys_before


def test_wrong_admin_keys_are_refused_by_code_and_never_echoed(rgw):
    endpoint, _ = rgw
    for creds, code in (({"access_key_id": "NOSUCHKEY", "secret_access_key": "x" * 40}, "InvalidAccessKeyId"),
                        ({"access_key_id": ADMIN["access_key_id"], "secret_access_key": "wrong" * 8},
                         "SignatureDoesNotMatch")):
        with pytest.raises(RgwAdminError) as caught:
            RgwUserProvider().create(_user(endpoint, credentials=creds))
        assert f"refused the admin key ({code})" in str(caught.value)
        assert creds["secret_access_key"] not in str(caught.value)


def test_policy_edited_on_the_server_is_drift_and_update_rewrites_it(rgw):
    endpoint, gateway = rgw
    provider = RgwBucketPolicyProvider()
    grants = [{"uid": "tool-a", "prefix": "photos-restic", "access": "write"}]
    props = _policy(endpoint, grants)
    outs = provider.create(props).outs
    gateway.buckets[BUCKET]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [principal("tool-a")]}, "Action": ["s3:*"],
         "Resource": ["arn:aws:s3:::*"]}]})
    read = provider.read(BUCKET, outs).outs
    assert read["grants"] == "drifted"
    assert provider.diff(BUCKET, read, props).changes is True
    assert provider.update(BUCKET, read, props).outs["grants"] == grants
    more = [*grants, {"uid": "tool-b", "prefix": "vault-restic", "access": "read"}]
    assert (provider.diff(BUCKET, outs, _policy(endpoint, more)).changes,
            provider.diff(BUCKET, outs, _policy(endpoint, more)).replaces) == (True, [])
    provider.delete(BUCKET, outs)
    assert gateway.buckets[BUCKET]["policy"] is None and provider.read(BUCKET, outs).id == ""
    provider.delete(BUCKET, outs)


def test_policy_on_a_missing_bucket_is_named(rgw):
    endpoint, _ = rgw
    with pytest.raises(RgwAdminError, match="the bucket does not exist"):
        RgwBucketPolicyProvider().create(_policy(endpoint, [{"uid": "tool-a", "prefix": "p", "access": "read"}],
                                                 bucket="hlb-absent-tier1"))


def test_check_reports_each_bad_field_and_grant():
    user = RgwUserProvider().check({}, {"uid": "x", "endpoint": "rgw:8080", "credentials": {}}).failures
    assert [f.property for f in user] == ["uid", "endpoint", "credentials"]
    policy = RgwBucketPolicyProvider().check({}, {
        "bucket": "hlb-ceph-tier1", "endpoint": "http://rgw:8080", "credentials": dict(ADMIN),
        "grants": [{"uid": "tool-a", "prefix": "ok", "access": "read"}, {"uid": "tool-b", "prefix": "/*",
                                                                        "access": "write"}]}).failures
    assert [f.property for f in policy] == ["grants[1]"]


def test_the_admin_key_comes_from_provider_configuration(rgw):
    endpoint, _ = rgw
    stack = {"homelab-backups:credentials": json.dumps({"ceph": ADMIN})}
    users, policies = RgwUserProvider(), RgwBucketPolicyProvider()
    for provider in (users, policies):
        provider.configure(ConfigureRequest(config=Config(raw_config=stack, project_name="homelab-backups")))
    checked = users.check({}, {**_user(endpoint), "credentials": None, "credentials_entry": "ceph"})
    assert checked.failures == [] and "credentials" not in checked.inputs
    outs = users.create(checked.inputs).outs
    assert "credentials" not in outs and outs["credentials_entry"] == "ceph"
    grants = [{"uid": outs["uid"], "prefix": "photos-restic", "access": "write"}]
    policy = policies.create({**_policy(endpoint, grants), "credentials": None, "credentials_entry": "ceph"}).outs
    assert "credentials" not in policy and policy["grants"] == grants
