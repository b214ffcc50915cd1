"""Wasabi per-writer identities against moto's IAM+S3 server with policies enforced (tests/iam_server.py): what a
writer and a reader key may and may not do, drift read back and repaired, all-or-nothing create, clean errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pulumi.dynamic import Config, ConfigureRequest

from providers.wasabi_iam import IAM_PATH, WasabiIamError, WasabiUserProvider, policy_name, user_policy
from tests.iam_server import IamServer, iam_server

pytestmark = pytest.mark.slow

BUCKET = "hlb-wasabi-tier1"
OTHER_BUCKET = "hlb-wasabi-tier2"


@pytest.fixture(scope="module")
def server():
    with iam_server() as running:
        s3 = running.client("s3")
        for name in (BUCKET, OTHER_BUCKET):
            s3.create_bucket(Bucket=name)
        yield running


def _props(server: IamServer, **overrides: Any) -> dict[str, Any]:
    return {"user_name": f"{BUCKET}-photos-{uuid.uuid4().hex[:6]}", "endpoint": server.endpoint, "bucket": BUCKET,
            "prefix": "photos-restic", "access": "write", "ca_file": None, "credentials": dict(server.admin),
            **overrides}


def _key(outs: dict[str, Any]) -> dict[str, str]:
    return {"access_key_id": outs["access_key_id"], "secret_access_key": outs["secret_access_key"]}


def _denied(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def test_writer_key_reaches_its_prefix_and_nothing_else(server):
    outs = WasabiUserProvider().create(_props(server)).outs
    s3 = server.client("s3", _key(outs))
    s3.put_object(Bucket=BUCKET, Key="photos-restic/config", Body=b"repo")
    assert s3.get_object(Bucket=BUCKET, Key="photos-restic/config")["Body"].read() == b"repo"
    s3.delete_object(Bucket=BUCKET, Key="photos-restic/config")
    assert _denied(s3.put_object, Bucket=BUCKET, Key="vault-restic/config", Body=b"x") == "AccessDenied"
    assert _denied(s3.put_object, Bucket=OTHER_BUCKET, Key="photos-restic/config", Body=b"x") == "AccessDenied"
    assert _denied(s3.put_bucket_versioning, Bucket=BUCKET,
                   VersioningConfiguration={"Status": "Suspended"}) == "AccessDenied"
    assert _denied(s3.put_bucket_policy, Bucket=BUCKET, Policy="{}") == "AccessDenied"
    assert _denied(s3.delete_bucket, Bucket=BUCKET) == "AccessDenied"
    assert _denied(server.client("iam", _key(outs)).create_user, UserName="thief") == "AccessDenied"
    assert outs["access"] == "write" and outs["key_status"] == "Active" and outs["other_keys"] == []


def test_reader_key_only_reads(server):
    server.client("s3").put_object(Bucket=BUCKET, Key="photos-restic/data/ab", Body=b"blob")
    outs = WasabiUserProvider().create(_props(server, access="read")).outs
    s3 = server.client("s3", _key(outs))
    assert s3.get_object(Bucket=BUCKET, Key="photos-restic/data/ab")["Body"].read() == b"blob"
    assert _denied(s3.put_object, Bucket=BUCKET, Key="photos-restic/data/cd", Body=b"x") == "AccessDenied"
    assert _denied(s3.delete_object, Bucket=BUCKET, Key="photos-restic/data/ab") == "AccessDenied"


def test_the_user_holds_exactly_the_shared_prefix_policy(server):
    props = _props(server)
    WasabiUserProvider().create(props)
    iam = server.client("iam")
    user = iam.get_user(UserName=props["user_name"])["User"]
    assert user["Path"] == IAM_PATH
    assert iam.list_user_policies(UserName=props["user_name"])["PolicyNames"] == [policy_name(props["user_name"])]
    document = iam.get_user_policy(UserName=props["user_name"], PolicyName=policy_name(props["user_name"]))
    document = document["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == user_policy(BUCKET, "photos-restic", "write")


def test_policy_edited_on_the_server_is_drift_that_update_repairs(server):
    provider = WasabiUserProvider()
    props = _props(server)
    outs = provider.create(props).outs
    iam = server.client("iam")
    iam.put_user_policy(UserName=props["user_name"], PolicyName=policy_name(props["user_name"]),
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    managed = iam.create_policy(PolicyName=f"everything-{uuid.uuid4().hex[:6]}", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    arn = managed["Policy"]["Arn"]
    iam.attach_user_policy(UserName=props["user_name"], PolicyArn=arn)
    read = provider.read(props["user_name"], outs)
    assert read.outs["access"] == "drifted"
    assert read.outs["attached_policies"] == [arn]
    assert provider.diff(props["user_name"], read.outs, props).changes is True
    repaired = provider.update(props["user_name"], read.outs, props).outs
    assert repaired["access"] == "write" and repaired["attached_policies"] == []
    assert provider.diff(props["user_name"], repaired, props).changes is False


def test_deactivated_key_is_drift_and_update_reactivates_it(server):
    provider = WasabiUserProvider()
    props = _props(server)
    outs = provider.create(props).outs
    server.client("iam").update_access_key(UserName=props["user_name"], AccessKeyId=outs["access_key_id"],
                                           Status="Inactive")
    read = provider.read(props["user_name"], outs).outs
    assert read["key_status"] == "Inactive"
    assert provider.diff(props["user_name"], read, props).changes is True
    assert provider.update(props["user_name"], read, props).outs["key_status"] == "Active"


def test_prefix_change_updates_in_place_and_name_change_replaces(server):
    provider = WasabiUserProvider()
    props = _props(server)
    outs = provider.create(props).outs
    moved = provider.diff(props["user_name"], outs, {**props, "prefix": "photos-kopia"})
    assert (moved.changes, moved.replaces) == (True, [])
    renamed = provider.diff(props["user_name"], outs, {**props, "user_name": "another-name"})
    assert renamed.replaces == ["user_name"]
    updated = provider.update(props["user_name"], outs, {**props, "prefix": "photos-kopia"}).outs
    s3 = server.client("s3", _key(updated))
    s3.put_object(Bucket=BUCKET, Key="photos-kopia/x", Body=b"1")
    assert _denied(s3.put_object, Bucket=BUCKET, Key="photos-restic/x", Body=b"1") == "AccessDenied"


def test_user_deleted_on_the_server_reads_as_gone_and_delete_tolerates_it(server):
    provider = WasabiUserProvider()
    props = _props(server)
    outs = provider.create(props).outs
    provider.delete(props["user_name"], outs)
    assert _denied(server.client("iam").get_user, UserName=props["user_name"]) == "NoSuchEntity"
    assert provider.read(props["user_name"], outs).id == ""
    provider.delete(props["user_name"], outs)


def test_an_existing_user_is_never_taken_over(server):
    props = _props(server)
    server.client("iam").create_user(UserName=props["user_name"])
    with pytest.raises(WasabiIamError, match="already exists .* never taken over"):
        WasabiUserProvider().create(props)
    assert server.client("iam").list_access_keys(UserName=props["user_name"])["AccessKeyMetadata"] == []


def test_a_failed_create_leaves_nothing_behind(server):
    iam = server.client("iam")
    iam.create_user(UserName="half-admin")
    iam.put_user_policy(UserName="half-admin", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:GetUser", "iam:CreateUser", "iam:DeleteUser", "iam:ListAccessKeys",
                                           "iam:ListUserPolicies", "iam:ListAttachedUserPolicies",
                                           "iam:TagUser"], "Resource": "*"}]}))
    half = iam.create_access_key(UserName="half-admin")["AccessKey"]
    props = _props(server, credentials={"access_key_id": half["AccessKeyId"],
                                        "secret_access_key": half["SecretAccessKey"]})
    with pytest.raises(WasabiIamError) as caught:
        WasabiUserProvider().create(props)
    message = str(caught.value)
    assert "refused the admin key (AccessDenied)" in message and "nothing was left behind" in message, message
    assert half["SecretAccessKey"] not in message
    assert _denied(iam.get_user, UserName=props["user_name"]) == "NoSuchEntity"


def test_a_wrong_admin_key_is_refused_with_the_fix(server):
    props = _props(server, credentials={"access_key_id": "AKIAWRONG", "secret_access_key": "wrong-secret"})
    with pytest.raises(WasabiIamError) as caught:
        WasabiUserProvider().create(props)
    message = str(caught.value)
    assert "refused the admin key (InvalidClientTokenId)" in message and "wrong-secret" not in message, message
    assert "credentials.<destination>.access_key_id" in message


def test_check_reports_each_bad_field():
    failures = WasabiUserProvider().check({}, {
        "user_name": "x", "endpoint": "iam.wasabisys.com", "bucket": "B", "prefix": "/a/", "access": "admin",
        "credentials_entry": None, "credentials": {"access_key_id": "a", "secret_access_key": "s"}}).failures
    assert [f.property for f in failures] == ["user_name", "endpoint", "bucket", "prefix", "access"]


def test_the_admin_key_comes_from_provider_configuration(server):
    provider = WasabiUserProvider()
    stack = {"homelab-backups:credentials": json.dumps({"wasabi": server.admin})}
    provider.configure(ConfigureRequest(config=Config(raw_config=stack, project_name="homelab-backups")))
    props = {**_props(server), "credentials": None, "credentials_entry": "wasabi"}
    checked = provider.check({}, props)
    assert checked.failures == [] and "credentials" not in checked.inputs
    outs = provider.create(checked.inputs).outs
    assert "credentials" not in outs and outs["credentials_entry"] == "wasabi"
    assert provider.read(outs["user_name"], outs).outs["access"] == "write"
    provider.delete(outs["user_name"], outs)
