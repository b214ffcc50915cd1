"""bucket-enable-encryption: only explicit settings can turn encryption off; each is named with its fix."""

from __future__ import annotations

from policies.rules import bucket_enable_encryption as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_buckets_pass():
    for resource_type, props in ((kinds.B2_BUCKET, f.b2_bucket()), (kinds.S3C_BUCKET, f.s3c_bucket()),
                                 (kinds.AWS_ENCRYPTION[0], f.aws_encryption())):
        assert f.run_resource(POLICY, resource_type, props).messages == [], resource_type


def test_b2_encryption_mode_none():
    props = f.b2_bucket() | {"encryption": {"mode": "none"}}
    assert f.run_resource(POLICY, kinds.B2_BUCKET, props).messages == [
        "bucket 'hlb-b2-tier1' sets encryption.mode 'none'; backup buckets encrypt at rest: use 'SSE-B2' (or drop "
        "the setting: the provider applies SSE-B2)."]


def test_s3_compatible_encryption_off():
    props = f.s3c_bucket() | {"encryption": False}
    assert f.run_resource(POLICY, kinds.S3C_BUCKET, props).messages == [
        "bucket 'hlb-minio-tier1' sets encryption=false; backup buckets encrypt at rest: remove it, or choose a "
        "server that encrypts at rest."]


def test_aws_configuration_without_rules_or_with_an_unknown_algorithm():
    assert f.run_resource(POLICY, kinds.AWS_ENCRYPTION[0], {"bucket": "b", "rules": []}, name="enc").messages == [
        "BucketServerSideEncryptionConfiguration enc (bucket 'b') has no rules; add one with "
        "apply_server_side_encryption_by_default.sse_algorithm 'AES256' (or 'aws:kms')."]
    props = f.aws_encryption()
    props["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] = "none"
    assert f.run_resource(POLICY, kinds.AWS_ENCRYPTION[0], props, name="enc").messages == [
        "BucketServerSideEncryptionConfiguration enc (bucket 'hlb-s3-tier1') rule 0 uses sse_algorithm 'none'; use "
        "one of AES256, aws:kms, aws:kms:dsse."]


def test_r2_and_aws_buckets_are_not_applicable_with_reasons():
    assert f.run_resource(POLICY, kinds.R2_BUCKET, f.r2_bucket()).not_applicable == (
        "R2 encrypts every object at rest (AES-256); there is nothing to configure")
    assert f.run_resource(POLICY, kinds.AWS_BUCKET, f.aws_bucket()).not_applicable == (
        "S3 encrypts new objects with SSE-S3 by default; an explicit BucketServerSideEncryptionConfiguration is "
        "checked on its own")
