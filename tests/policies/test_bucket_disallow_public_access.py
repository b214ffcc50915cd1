"""bucket-disallow-public-access: compliant buckets pass; each way of opening a bucket is named with its fix."""

from __future__ import annotations

import json

from policies.rules import bucket_disallow_public_access as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_buckets_and_blocks_pass():
    for resource_type, props in ((kinds.B2_BUCKET, f.b2_bucket()), (kinds.S3C_BUCKET, f.s3c_bucket()),
                                 (kinds.AWS_BUCKET, f.aws_bucket()),
                                 (kinds.AWS_PUBLIC_ACCESS_BLOCK, f.aws_public_access_block())):
        outcome = f.run_resource(POLICY, resource_type, props)
        assert outcome.messages == [] and outcome.not_applicable is None, resource_type


def test_b2_all_public_bucket():
    props = f.b2_bucket() | {"bucket_type": "allPublic"}
    assert f.run_resource(POLICY, kinds.B2_BUCKET, props).messages == [
        "bucket hlb-b2-tier1 has bucket_type 'allPublic'; backup buckets must be allPrivate: remove bucket_type (the "
        "provider creates allPrivate buckets) or set it to 'allPrivate'."]


def test_aws_public_access_block_with_an_open_flag():
    props = f.aws_public_access_block() | {"blockPublicPolicy": False}
    assert f.run_resource(POLICY, kinds.AWS_PUBLIC_ACCESS_BLOCK, props, name="hlb-s3-tier1-public-access").messages == [
        "BucketPublicAccessBlock hlb-s3-tier1-public-access (bucket 'hlb-s3-tier1') leaves blockPublicPolicy=false; "
        "all four public-access blocks must be true: set block_public_acls, block_public_policy, ignore_public_acls "
        "and restrict_public_buckets to True."]


def test_aws_public_access_block_missing_flags_count_as_open():
    props = {"bucket": "hlb-s3-tier1", "blockPublicAcls": True, "blockPublicPolicy": True}
    (message,) = f.run_resource(POLICY, kinds.AWS_PUBLIC_ACCESS_BLOCK, props).messages
    assert "leaves ignorePublicAcls=false, restrictPublicBuckets=false;" in message


def test_s3_compatible_public_acl():
    props = f.s3c_bucket() | {"acl": "public-read"}
    assert f.run_resource(POLICY, kinds.S3C_BUCKET, props).messages == [
        "bucket hlb-minio-tier1 sets acl 'public-read'; backup buckets must be private: use 'private' or drop acl."]


def test_aws_bucket_policy_open_to_everyone():
    document = {"Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::hlb-s3-tier1/*"}]}
    props = {"bucket": "hlb-s3-tier1", "policy": json.dumps(document)}
    assert f.run_resource(POLICY, kinds.AWS_BUCKET_POLICY, props, name="open").messages == [
        "BucketPolicy open (bucket 'hlb-s3-tier1') has a bucket policy allowing Principal '*' without a condition "
        "(statement Everyone); remove those statements: backup buckets are private."]


def test_aws_acl_grant_to_all_users():
    props = {"bucket": "hlb-s3-tier1", "accessControlPolicy": {"grants": [
        {"permission": "READ", "grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}
    assert f.run_resource(POLICY, kinds.AWS_ACL[1], props, name="acl").messages == [
        "BucketAclV2 acl (bucket 'hlb-s3-tier1') grants READ to AllUsers; remove that grant: backup buckets are "
        "private."]


def test_r2_managed_domain_publishes_the_bucket():
    props = {"accountId": f.ACCOUNT, "bucketName": "hlb-r2-tier1", "enabled": True}
    assert f.run_resource(POLICY, kinds.R2_MANAGED_DOMAIN, props, name="dev-url").messages == [
        "R2ManagedDomain dev-url (bucket 'hlb-r2-tier1') serves the bucket publicly through its public r2.dev URL; "
        "backup buckets are reached only with scoped S3 credentials: remove this resource (or set enabled=False)."]
    assert f.run_resource(POLICY, kinds.R2_MANAGED_DOMAIN, props | {"enabled": False}).messages == []


def test_r2_bucket_itself_is_not_applicable_with_a_reason():
    outcome = f.run_resource(POLICY, kinds.R2_BUCKET, f.r2_bucket())
    assert outcome.not_applicable == ("R2 buckets are private unless a managed (r2.dev) or custom domain is "
                                      "attached; those resources are checked instead")


def test_other_types_are_not_applicable():
    outcome = f.run_resource(POLICY, kinds.REPLICATION_SOURCE, f.replication_source())
    assert outcome.not_applicable is not None and outcome.not_applicable.startswith("checks only ")


def test_unknown_bucket_type_downgrades_to_advisory():
    outcome = f.run_resource(POLICY, kinds.B2_BUCKET, f.b2_bucket() | {"bucket_type": f.UNKNOWN})
    assert outcome.unknown == "string value at .bucket_type can't be known during preview"
    assert outcome.messages == []
