"""bucket-configure-safe-lifecycle: the neutral lifecycle passes; each unsafe rule is named with its bound and fix."""

from __future__ import annotations

from policies.rules import bucket_configure_safe_lifecycle as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_lifecycles_pass():
    for resource_type, props in ((kinds.B2_BUCKET, f.b2_bucket()), (kinds.S3C_BUCKET, f.s3c_bucket()),
                                 (kinds.AWS_LIFECYCLE[0], f.aws_lifecycle()), (kinds.R2_LIFECYCLE, f.r2_lifecycle())):
        assert f.run_resource(POLICY, resource_type, props).messages == [], resource_type


def test_aws_rule_expiring_current_objects():
    props = f.aws_lifecycle()
    props["rules"][0]["expiration"] = {"days": 30.0}
    assert f.run_resource(POLICY, kinds.AWS_LIFECYCLE[0], props, name="lc").messages == [
        "BucketLifecycleConfiguration lc (bucket 'hlb-s3-tier1') rule 'expire-noncurrent-and-abort-uploads' expires "
        "current objects after 30 days; lifecycle rules must never expire current objects of a repository bucket "
        "(the backup tool owns retention): remove expiration (days/date) from the rule."]


def test_r2_delete_objects_transition_deletes_live_data():
    props = f.r2_lifecycle()
    props["rules"][0]["deleteObjectsTransition"] = {"condition": {"type": "Age", "maxAge": 30 * 86400.0}}
    assert f.run_resource(POLICY, kinds.R2_LIFECYCLE, props, name="lc").messages == [
        "R2BucketLifecycle lc (bucket 'hlb-r2-tier1') rule 'abort-incomplete-multipart' expires current objects "
        "after 30 days; lifecycle rules must never expire current objects of a repository bucket (the backup tool "
        "owns retention): remove delete_objects_transition (R2 has no versions: it deletes live repository data)."]


def test_noncurrent_expiry_below_one_day_and_below_the_lock():
    props = f.b2_bucket() | {"lifecycle": {"noncurrent_days": 0.5, "abort_multipart_days": 7.0}}
    assert f.run_resource(POLICY, kinds.B2_BUCKET, props).messages == [
        "bucket 'hlb-b2-tier1' rule 'lifecycle' deletes noncurrent versions after 0.5 days, below the minimum of 1: "
        "set noncurrent_days to at least 1.",
        "bucket 'hlb-b2-tier1' deletes noncurrent versions after 0.5 days but locks them for 14 days; noncurrent "
        "expiry must be at least the lock period: set noncurrent_days to 15."]


def test_noncurrent_expiry_shorter_than_the_lock():
    props = f.s3c_bucket() | {"lifecycle": {"noncurrent_days": 7.0, "abort_multipart_days": 7.0}}
    assert f.run_resource(POLICY, kinds.S3C_BUCKET, props).messages == [
        "bucket 'hlb-minio-tier1' deletes noncurrent versions after 7 days but locks them for 14 days; noncurrent "
        "expiry must be at least the lock period: set noncurrent_days to 15."]


def test_abort_multipart_too_late_and_missing():
    props = f.b2_bucket() | {"lifecycle": {"noncurrent_days": 15.0, "abort_multipart_days": 30.0}}
    assert f.run_resource(POLICY, kinds.B2_BUCKET, props).messages == [
        "bucket 'hlb-b2-tier1' rule 'lifecycle' aborts incomplete multipart uploads after 30 days, above the maximum "
        "of 7: abort them after 7 days or fewer."]
    props = f.aws_lifecycle()
    del props["rules"][0]["abortIncompleteMultipartUpload"]
    assert f.run_resource(POLICY, kinds.AWS_LIFECYCLE[0], props, name="lc").messages == [
        "BucketLifecycleConfiguration lc (bucket 'hlb-s3-tier1') has no rule aborting incomplete multipart uploads; "
        "add one that aborts them after at most 7 days (abort_multipart_days), or failed uploads are billed forever."]


def test_bounds_come_from_config():
    props = f.b2_bucket() | {"lifecycle": {"noncurrent_days": 15.0, "abort_multipart_days": 7.0}}
    (message,) = f.run_resource(POLICY, kinds.B2_BUCKET, props, config={"maxAbortMultipartDays": 3}).messages
    assert message.endswith("aborts incomplete multipart uploads after 7 days, above the maximum of 3: abort them "
                            "after 3 days or fewer.")


def test_bucket_without_lifecycle_is_left_to_bucket_missing_lifecycle():
    outcome = f.run_resource(POLICY, kinds.B2_BUCKET, f.b2_bucket() | {"lifecycle": None})
    assert outcome.not_applicable == "declares no lifecycle; bucket-missing-lifecycle judges whether it needs one"


def test_unknown_lifecycle_downgrades_to_advisory():
    outcome = f.run_resource(POLICY, kinds.B2_BUCKET, f.b2_bucket() | {"lifecycle": f.UNKNOWN})
    assert outcome.unknown == "string value at .lifecycle can't be known during preview"
