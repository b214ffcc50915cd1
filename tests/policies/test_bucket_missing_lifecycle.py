"""bucket-missing-lifecycle: buckets with lifecycles pass; each kind without one is named with its fix."""

from __future__ import annotations

from policies.rules import bucket_missing_lifecycle as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_b2_bucket_without_lifecycle():
    estate = f.Estate()
    estate.b2_bucket.props["lifecycle"] = None
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-b2-tier1 (tier 1) has no lifecycle, so deleted (hidden/noncurrent) versions and incomplete uploads "
        "are kept and billed forever: set lifecycle {noncurrent_days, abort_multipart_days}."]
    assert outcome.urns == [estate.b2_bucket.urn]


def test_r2_bucket_without_lifecycle_resource():
    estate = f.Estate()
    estate.remove(estate.r2_lifecycle)
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.endswith("are kept and billed forever: add an R2BucketLifecycle that aborts multipart uploads "
                            "after 7 days.")


def test_s3_compatible_server_without_lifecycle_support_is_exempt():
    estate = f.Estate()
    props = f.s3c_bucket() | {"lifecycle": None}
    props["capabilities"]["lifecycle"] = False
    estate.add(kinds.S3C_BUCKET, "hlb-storj-tier1-bucket", props)
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_stack_without_buckets_is_not_applicable():
    estate = f.Estate()
    estate.remove(estate.b2_bucket, estate.r2_bucket)
    assert f.run_stack(POLICY, estate.nodes).not_applicable == "the stack declares no bucket"
