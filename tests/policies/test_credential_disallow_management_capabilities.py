"""credential-disallow-management-capabilities: writer rights pass; management rights are listed for removal."""

from __future__ import annotations

import json

from policies.rules import credential_disallow_management_capabilities as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_writer_credentials_pass():
    assert f.run_resource(POLICY, kinds.B2_KEY, f.b2_key()).messages == []
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, f.aws_user_policy()).messages == []


def test_b2_key_that_manages_keys_and_buckets():
    props = f.b2_key()
    props["capabilities"] += ["writeKeys", "deleteBuckets"]
    assert f.run_resource(POLICY, kinds.B2_KEY, props).messages == [
        "B2 application key 'hlb-b2-tier1-vaultwarden-restic' holds deleteBuckets, writeKeys; a writer's key must not "
        "manage keys, buckets or retention: remove them from capabilities."]


def test_b2_key_that_bypasses_governance():
    props = f.b2_key()
    props["capabilities"].append("bypassGovernance")
    (message,) = f.run_resource(POLICY, kinds.B2_KEY, props).messages
    assert "holds bypassGovernance;" in message


def test_iam_wildcard_and_management_actions():
    document = f.writer_policy()
    document["Statement"][2]["Action"] = ["s3:*", "s3:PutBucketPolicy", "s3:BypassGovernanceRetention"]
    props = {"user": "writer", "policy": json.dumps(document)}
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, props, name="pol").messages == [
        "IAM policy pol statement #2 allows wildcard actions s3:*, which include bucket management; list the object "
        "actions the writer needs instead.",
        "IAM policy pol statement #2 allows s3:PutBucketPolicy, s3:BypassGovernanceRetention; a writer must not "
        "manage buckets, locks, lifecycles or versions: remove them."]


def test_iam_not_action():
    document = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"}]}
    props = {"user": "writer", "policy": json.dumps(document)}
    assert f.run_resource(POLICY, kinds.AWS_USER_POLICY, props, name="pol").messages == [
        "IAM policy pol statement #0 uses NotAction, which allows every other action (bucket and key management "
        "included); list the object actions under Action instead."]


def test_denied_capabilities_come_from_config():
    config = {"b2ManagementCapabilities": ["deleteFiles"]}
    (message,) = f.run_resource(POLICY, kinds.B2_KEY, f.b2_key(), config=config).messages
    assert "holds deleteFiles;" in message


def test_cloudflare_tokens_are_not_applicable_with_a_reason():
    assert f.run_resource(POLICY, kinds.CF_API_TOKEN, f.api_token()).not_applicable == (
        "Cloudflare permission groups are resolved by id at deploy time; credential-enforce-single-bucket-scope keeps "
        "R2 tokens on one bucket")


def test_unknown_capabilities_downgrade_to_advisory():
    outcome = f.run_resource(POLICY, kinds.B2_KEY, f.b2_key() | {"capabilities": f.UNKNOWN})
    assert outcome.unknown == "string value at .capabilities can't be known during preview"
