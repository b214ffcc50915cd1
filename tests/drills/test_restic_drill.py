"""restic restore drill of the local stack's Tier 1 PVC, with exactly the repository Secret the program renders,
into the bucket the program created (versioned, lifecycle rule, 14-day governance lock by default)."""

from __future__ import annotations

import datetime
import shutil
import time

import pytest
from botocore.exceptions import ClientError

from tests.drills.estate import DrillEstate
from tests.drills.helpers import (
    RESTIC_DATASET,
    RESTIC_DESTINATION,
    ResticRepository,
    builder_env,
    restic_run,
    tool_version,
    tree_digest,
    tree_size,
    versions,
)
from tests.drills.records import RECORDS, DrillRecord

pytestmark = [pytest.mark.slow, pytest.mark.engine]

RETAIN_FLAGS = {"hourly": "--keep-hourly", "daily": "--keep-daily", "weekly": "--keep-weekly",
                "monthly": "--keep-monthly", "yearly": "--keep-yearly", "within": "--keep-within",
                "last": "--keep-last"}
"""VolSync's restic mover turns `spec.restic.retain` into these `restic forget` flags."""


def forget_flags(retain: dict[str, object]) -> list[str]:
    flags = []
    for level, value in retain.items():
        flags += [RETAIN_FLAGS[level], str(value)]
    return flags


def _bucket_and_prefix(repository: str) -> tuple[str, str]:
    _, _, rest = repository.removeprefix("s3:").partition("://")
    _, bucket, prefix = rest.split("/", 2)
    return bucket, prefix


def _current_keys(estate: DrillEstate, bucket: str, prefix: str) -> set[str]:
    pages = estate.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_secret_is_the_one_the_engine_rendered_for_the_program_created_bucket(estate: DrillEstate) -> None:
    rendered = estate.secret_env(f"{RESTIC_DATASET}-{RESTIC_DESTINATION}-repo")
    assert builder_env(estate, RESTIC_DATASET, RESTIC_DESTINATION) == rendered
    copy = next(c for c in estate.runbook["datasets"][RESTIC_DATASET]["copies"]
                if c["destination"] == RESTIC_DESTINATION)
    assert copy["repository_secret"]["values"] == {k: v for k, v in rendered.items()
                                                   if k not in copy["repository_secret"]["from_secrets"]}
    bucket, prefix = _bucket_and_prefix(rendered["RESTIC_REPOSITORY"])
    assert rendered["RESTIC_REPOSITORY"].startswith(f"s3:{estate.plain.endpoint}/")
    assert (bucket, prefix) == (copy["bucket"], copy["repository"])
    s3 = estate.s3()
    retention = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", copy["lock_days"]) and copy["lock_days"] > 0
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= copy["lock_days"]


def test_backups_into_the_locked_bucket_carry_content_md5(estate: DrillEstate,
                                                           restic_repository: ResticRepository) -> None:
    counts = restic_repository.put_headers
    assert counts["requests"] > 0
    RECORDS.findings.append(
        f"{tool_version(['restic', 'version'])}: {counts['content-md5']}/{counts['requests']} PUTs carried "
        f"Content-MD5 (x-amz-sdk-checksum-algorithm: {counts['x-amz-sdk-checksum-algorithm']}); uploads into the "
        "bucket with default GOVERNANCE retention were accepted")
    assert counts["content-md5"] == counts["requests"], counts
    bucket, prefix = _bucket_and_prefix(restic_repository.env["RESTIC_REPOSITORY"])
    pack = next(k for k in _current_keys(estate, bucket, prefix) if "/data/" in k)
    head = estate.s3().head_object(Bucket=bucket, Key=pack)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=13)


def test_restore_after_losing_the_source_gives_back_every_byte(restic_repository: ResticRepository) -> None:
    repo = restic_repository
    shutil.rmtree(repo.source)
    target = repo.workdir / "restored"
    started = time.monotonic()
    restic_run(repo.env, "restore", "latest", "--target", str(target))
    seconds = time.monotonic() - started
    assert tree_digest(target) == repo.expected
    files, size = tree_size(target)
    RECORDS.drills.append(DrillRecord("restic: Tier 1 PVC, latest of 3 snapshots", "restic 0.14 / S3", seconds, size,
                                      files, "checksums equal"))


def test_forget_and_prune_by_the_planned_retention_work_on_the_locked_bucket(
        estate: DrillEstate, restic_repository: ResticRepository) -> None:
    repo = restic_repository
    bucket, prefix = _bucket_and_prefix(repo.env["RESTIC_REPOSITORY"])
    source = estate.one("ReplicationSource", f"{RESTIC_DATASET}-{RESTIC_DESTINATION}")
    before = _current_keys(estate, bucket, prefix)
    restic_run(repo.env, "forget", *forget_flags(source["spec"]["restic"]["retain"]), "--prune")
    after = _current_keys(estate, bucket, prefix)
    released = sorted(k for k in before - after if "/locks/" not in k)
    assert released, "forget kept every snapshot: three snapshots of one day should collapse to one daily"
    assert any("/data/" in k for k in released), "prune freed no pack file"
    assert any("/snapshots/" in k for k in released)

    s3 = estate.s3()
    markers, kept = versions(s3, bucket, prefix)
    for key in released:
        assert key in markers, f"{key}: prune's delete should leave a delete marker on a versioned bucket"
        assert key in kept, f"{key}: the locked version must survive as a noncurrent version"
    victim = kept[released[0]]
    head = s3.head_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.head_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])

    snapshots = restic_run(repo.env, "snapshots", "--json").stdout
    assert snapshots.count('"short_id"') == 1
    restic_run(repo.env, "check")
    target = repo.workdir / "restored-after-prune"
    restic_run(repo.env, "restore", "latest", "--target", str(target))
    assert tree_digest(target) == repo.expected
    RECORDS.findings.append(
        f"restic forget {' '.join(forget_flags(source['spec']['restic']['retain']))} --prune on the locked bucket: "
        f"{len(released)} objects released, each left a delete marker and a locked noncurrent version; a versioned "
        "delete without governance bypass was refused (AccessDenied)")
