"""credential-enforce-single-bucket-scope: bucket-scoped keys, tokens and policies pass; broader ones are named."""

from __future__ import annotations

import json

from policies.rules import credential_enforce_single_bucket_scope as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_credentials_pass():
    for resource_type, props in ((kinds.B2_KEY, f.b2_key()), (kinds.CF_API_TOKEN, f.api_token()),
                                 (kinds.AWS_USER_POLICY, f.aws_user_policy())):
        assert f.run_resource(POLICY, resource_type, props).messages == [], resource_type


def test_b2_key_bucket_id_unknown_during_preview_counts_as_scoped():
    assert f.run_resource(POLICY, kinds.B2_KEY, f.b2_key() | {"bucket_id": f.UNKNOWN}).messages == []


def test_b2_key_without_bucket():
    props = f.b2_key()
    del props["bucket_id"]
    assert f.run_resource(POLICY, kinds.B2_KEY, props).messages == [
        "B2 application key 'hlb-b2-tier1-vaultwarden-restic' has no bucket restriction, so it reaches every bucket "
        "of the account; pass bucket_id of the one bucket it writes (bucket.bucket_id)."]


def test_b2_key_for_two_buckets():
    props = f.b2_key() | {"bucket_ids": ["a", "b"]}
    assert f.run_resource(POLICY, kinds.B2_KEY, props).messages == [
        "B2 application key 'hlb-b2-tier1-vaultwarden-restic' is restricted to 2 buckets; a writer's key reaches one "
        "bucket: create one key per bucket, each with a single bucket_id."]


def test_cloudflare_token_scoped_to_the_account():
    props = f.api_token()
    props["policies"][0]["resources"] = json.dumps({f"com.cloudflare.api.account.{f.ACCOUNT}": "*"})
    assert f.run_resource(POLICY, kinds.CF_API_TOKEN, props).messages == [
        "Cloudflare token 'hlb-r2-tier1-vaultwarden-restic' policy 0 is scoped to com.cloudflare.api.account."
        f"{f.ACCOUNT}, beyond one R2 bucket; scope it to com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_"
        "<bucket> only."]


def test_cloudflare_token_for_two_buckets():
    props = f.api_token()
    second = f.R2_SCOPE.replace("tier1", "tier2")
    props["policies"][0]["resources"] = json.dumps({f.R2_SCOPE: "*", second: "*"})
    assert f.run_resource(POLICY, kinds.CF_API_TOKEN, props).messages == [
        f"Cloudflare token 'hlb-r2-tier1-vaultwarden-restic' reaches 2 R2 buckets ({f.R2_SCOPE}, {second}); a "
        "writer's token reaches one bucket: create one token per bucket."]


def test_iam_policy_on_every_bucket():
    document = f.writer_policy()
    document["Statement"][2]["Resource"] = "arn:aws:s3:::*"
    props = {"user": "writer", "policy": json.dumps(document)}
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, props, name="pol").messages == [
        "IAM policy pol (user writer) statement #2 allows resource 'arn:aws:s3:::*', which is not one S3 bucket; name "
        "arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/<prefix>/* only."]


def test_iam_policy_on_two_buckets_and_not_resource():
    document = f.writer_policy()
    document["Statement"][1]["Resource"] = "arn:aws:s3:::other-bucket"
    document["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x"})
    props = {"user": "writer", "policy": json.dumps(document)}
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, props, name="pol").messages == [
        "IAM policy pol (user writer) statement #3 uses NotResource, which allows every other resource; list the "
        "bucket's ARNs under Resource instead.",
        "IAM policy pol (user writer) reaches 2 buckets (hlb-s3-tier1, other-bucket); a writer reaches one bucket: "
        "give each bucket its own user and policy."]


def test_unreadable_policy_and_unknown_policy():
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, {"user": "u", "policy": "{"}, name="pol").messages == [
        "IAM policy pol (user u) is not a readable JSON policy document; write it with json.dumps({...})."]
    outcome = f.run_resource(POLICY, kinds.AWS_USER_POLICY, {"user": "u", "policy": f.UNKNOWN})
    assert outcome.unknown == "string value at .policy can't be known during preview"
