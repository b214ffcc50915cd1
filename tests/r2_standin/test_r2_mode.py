"""The R2 mode of the loopback S3 server answers as Cloudflare documents R2: no versioning or S3 Object Lock API,
and bucket lock rules that refuse overwriting and deleting matching objects younger than the rule's age."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.r2_standin import LockRule, RuleError, parse_rules
from tests.r2_standin.running import RunningR2, r2_server, rest_rules

DAY = 86400
_names = itertools.count()


@pytest.fixture(scope="module")
def r2() -> Iterator[RunningR2]:
    with r2_server() as running:
        yield running


@pytest.fixture
def bucket(r2: RunningR2) -> str:
    name = f"r2-mode-{next(_names)}"
    r2.s3().create_bucket(Bucket=name)
    return name


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _age_rule(prefix: str, seconds: int, rule_id: str = "retain") -> dict[str, Any]:
    return {"id": rule_id, "enabled": True, "prefix": prefix, "condition": {"type": "Age", "maxAgeSeconds": seconds}}


def _lock(r2: RunningR2, bucket: str, *rules: dict[str, Any]) -> None:
    status, answer = r2.put_lock(bucket, list(rules))
    assert status == 200 and answer["success"], answer


def _refused(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as exc:
        call()
    return _code(exc)


LOCKED = ("ObjectLockedByBucketPolicy", 403)


@pytest.mark.parametrize("call", [
    pytest.param(lambda s3, b: s3.get_bucket_versioning(Bucket=b), id="GetBucketVersioning"),
    pytest.param(lambda s3, b: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
                 id="PutBucketVersioning"),
    pytest.param(lambda s3, b: s3.get_object_lock_configuration(Bucket=b), id="GetObjectLockConfiguration"),
    pytest.param(lambda s3, b: s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}),
        id="PutObjectLockConfiguration"),
    pytest.param(lambda s3, b: s3.list_object_versions(Bucket=b), id="ListObjectVersions"),
    pytest.param(lambda s3, b: s3.put_object_retention(Bucket=b, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": "2030-01-01T00:00:00Z"}), id="PutObjectRetention"),
])
def test_versioning_and_object_lock_calls_are_not_implemented(r2: RunningR2, bucket: str, call: Any) -> None:
    s3 = r2.s3()
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _refused(lambda: call(s3, bucket)) == ("NotImplemented", 501)


def test_object_lock_request_headers_create_no_versioned_bucket(r2: RunningR2) -> None:
    s3 = r2.s3()
    s3.create_bucket(Bucket="r2-mode-lock-header", ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket="r2-mode-lock-header", Key="k", Body=b"one", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate="2030-01-01T00:00:00Z")
    s3.put_object(Bucket="r2-mode-lock-header", Key="k", Body=b"two")
    s3.delete_object(Bucket="r2-mode-lock-header", Key="k")
    assert "Contents" not in s3.list_objects_v2(Bucket="r2-mode-lock-header")


def test_young_objects_under_the_prefix_are_neither_overwritten_nor_deleted(r2: RunningR2, bucket: str) -> None:
    s3 = r2.s3()
    _lock(r2, bucket, _age_rule("repo/", DAY))
    s3.put_object(Bucket=bucket, Key="repo/config", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="elsewhere/config", Body=b"v1")
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="repo/config", Body=b"v2")) == LOCKED
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="repo/config")) == LOCKED
    assert _refused(lambda: s3.copy_object(Bucket=bucket, Key="repo/config",
                                           CopySource={"Bucket": bucket, "Key": "elsewhere/config"})) == LOCKED
    assert s3.get_object(Bucket=bucket, Key="repo/config")["Body"].read() == b"v1"
    s3.put_object(Bucket=bucket, Key="repo/new", Body=b"new keys are never refused")
    s3.put_object(Bucket=bucket, Key="elsewhere/config", Body=b"v2")
    s3.delete_object(Bucket=bucket, Key="elsewhere/config")
    s3.delete_object(Bucket=bucket, Key="repo/never-existed")


def test_objects_older_than_the_age_are_released_and_an_overwrite_restarts_the_age(r2: RunningR2,
                                                                                    bucket: str) -> None:
    s3 = r2.s3()
    _lock(r2, bucket, _age_rule("", DAY))
    s3.put_object(Bucket=bucket, Key="repo/index", Body=b"v1")
    r2.advance(DAY - 60)
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="repo/index", Body=b"v2")) == LOCKED
    r2.advance(120)
    s3.put_object(Bucket=bucket, Key="repo/index", Body=b"v2")
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="repo/index")) == LOCKED
    r2.advance(DAY + 1)
    s3.delete_object(Bucket=bucket, Key="repo/index")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_a_rule_set_after_the_upload_protects_existing_objects(r2: RunningR2, bucket: str) -> None:
    s3 = r2.s3()
    s3.put_object(Bucket=bucket, Key="repo/a", Body=b"a")
    s3.delete_object(Bucket=bucket, Key="repo/a")
    s3.put_object(Bucket=bucket, Key="repo/a", Body=b"a")
    _lock(r2, bucket, _age_rule("repo/", DAY))
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="repo/a")) == LOCKED
    _lock(r2, bucket)
    s3.delete_object(Bucket=bucket, Key="repo/a")


def test_multipart_completion_over_a_locked_key_is_refused(r2: RunningR2, bucket: str) -> None:
    s3 = r2.s3()
    _lock(r2, bucket, _age_rule("repo/", DAY))
    s3.put_object(Bucket=bucket, Key="repo/pack", Body=b"small")

    def complete(key: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 1024)["ETag"]
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})

    assert _refused(lambda: complete("repo/pack")) == LOCKED
    assert s3.get_object(Bucket=bucket, Key="repo/pack")["Body"].read() == b"small"
    complete("repo/other-pack")
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="repo/other-pack")) == LOCKED
    upload = s3.create_multipart_upload(Bucket=bucket, Key="repo/pack")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="repo/pack", UploadId=upload)


def test_delete_objects_refuses_locked_keys_one_by_one(r2: RunningR2, bucket: str) -> None:
    s3 = r2.s3()
    _lock(r2, bucket, _age_rule("repo/locks/", DAY))
    for key in ("repo/locks/1", "repo/data/1", "repo/data/2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "repo/locks/1"}, {"Key": "repo/data/1"}, {"Key": "repo/data/2"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["repo/data/1", "repo/data/2"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("repo/locks/1", "ObjectLockedByBucketPolicy")]
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "repo/locks/1"}]})
    assert [e["Key"] for e in answer["Errors"]] == ["repo/locks/1"] and not answer.get("Deleted")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["repo/locks/1"]


def test_the_strictest_matching_rule_wins_and_disabled_rules_do_nothing(r2: RunningR2, bucket: str) -> None:
    s3 = r2.s3()
    _lock(r2, bucket, _age_rule("", 60, "short"), _age_rule("repo/", 10 * DAY, "long"),
          {"id": "off", "enabled": False, "prefix": "loose/", "condition": {"type": "Indefinite"}},
          {"id": "forever", "enabled": True, "prefix": "legal/", "condition": {"type": "Indefinite"}},
          {"id": "until", "enabled": True, "prefix": "dated/", "condition": {"type": "Date",
                                                                             "date": "2999-01-01T00:00:00Z"}})
    for key in ("repo/a", "loose/a", "legal/a", "dated/a"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    r2.advance(120)
    s3.delete_object(Bucket=bucket, Key="loose/a")
    for key in ("repo/a", "legal/a", "dated/a"):
        assert _refused(lambda key=key: s3.delete_object(Bucket=bucket, Key=key)) == LOCKED
    assert [r["id"] for r in r2.get_lock(bucket)] == ["short", "long", "off", "forever", "until"]


def test_a_refused_lock_configuration_names_the_field(r2: RunningR2, bucket: str) -> None:
    status, answer = r2.put_lock(bucket, [_age_rule("", DAY), {"id": "x", "enabled": True,
                                                               "condition": {"type": "Age"}}])
    assert status == 400 and not answer["success"]
    assert answer["errors"][0]["message"] == ("rules[1].condition.maxAgeSeconds: required, a whole number of "
                                              "seconds >= 0")
    assert r2.get_lock(bucket) == []


@pytest.mark.parametrize(("rules", "message"), [
    ([{"id": "", "enabled": True, "condition": {"type": "Indefinite"}}], "rules[0].id: required, a non-empty string"),
    ([{"id": "a", "enabled": "yes", "condition": {"type": "Indefinite"}}], "rules[0].enabled: required, true or false"),
    ([{"id": "a", "enabled": True, "condition": {"type": "Forever"}}],
     "rules[0].condition.type: must be one of Age, Date, Indefinite, got 'Forever'"),
    ([{"id": "a", "enabled": True, "condition": {"type": "Indefinite", "maxAgeSeconds": 3}}],
     "rules[0].condition: fields ['maxAgeSeconds'] do not belong to a Indefinite condition"),
    ([{"id": "a", "enabled": True, "condition": {"type": "Date", "date": "soon"}}],
     "rules[0].condition.date: required, an ISO 8601 date such as 2030-01-01T00:00:00Z"),
    ([{"id": "a", "enabled": True, "prefix": "", "condition": {"type": "Age", "maxAgeSeconds": 1}, "mode": "x"}],
     "rules[0]: unknown fields ['mode']"),
    ([{"id": str(i), "enabled": True, "condition": {"type": "Indefinite"}} for i in range(1001)],
     "rules: 1001 rules, at most 1000 are allowed"),
])
def test_rule_validation(rules: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(RuleError) as exc:
        parse_rules({"rules": rules})
    assert str(exc.value) == message


def test_lock_rule_conditions() -> None:
    (age, dated, forever) = parse_rules({"rules": [
        _age_rule("repo/", 100),
        {"id": "d", "enabled": True, "condition": {"type": "Date", "date": "2030-01-01T00:00:00Z"}},
        {"id": "i", "enabled": True, "condition": {"type": "Indefinite"}}]})
    assert age.locks("repo/x", uploaded=1000, now=1099) and not age.locks("repo/x", uploaded=1000, now=1100)
    assert not age.locks("other/x", uploaded=1000, now=1000)
    assert dated.locks("any", 0, now=1_893_455_999) and not dated.locks("any", 0, now=1_893_456_000)
    assert forever.locks("any", 0, now=10**12)
    assert LockRule("x", False, "", "Indefinite").locks("any", 0, 0) is False


def test_rest_rules_translates_the_programs_rule_shape() -> None:
    program = [{"id": "retain-backups", "enabled": True, "prefix": "",
                "condition": {"type": "Age", "max_age_seconds": 14 * DAY}}]
    assert rest_rules(program) == [_age_rule("", 14 * DAY, "retain-backups")]
    assert parse_rules({"rules": rest_rules(program)})[0].max_age_seconds == 14 * DAY
