"""bucket-enforce-object-lock: locked Tier 1 offsite buckets pass; unlocked ones are named with the kind's fix."""

from __future__ import annotations

from policies.rules import bucket_enforce_object_lock as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_r2_tier1_bucket_without_lock_rule():
    estate = f.Estate()
    estate.remove(estate.r2_lock)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-r2-tier1 (tier 1, offsite) has no object lock; tier 1 offsite copies are locked against early "
        "deletion: add an R2BucketLock with an Age rule."]
    assert outcome.urns == [estate.r2_bucket.urn]


def test_b2_tier1_bucket_with_lock_zero():
    estate = f.Estate()
    estate.b2_bucket.props["lock_days"] = 0.0
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "bucket hlb-b2-tier1 (tier 1, offsite) has no object lock; tier 1 offsite copies are locked against early "
        "deletion: set lock_days (the bucket is recreated with file lock)."]


def test_s3_compatible_server_without_lock_support():
    estate = f.Estate()
    props = f.s3c_bucket() | {"lock_days": 0.0}
    props["capabilities"]["object_lock"] = False
    estate.add(kinds.S3C_BUCKET, "hlb-minio-tier1-bucket", props)
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message == ("bucket hlb-minio-tier1 (tier 1, offsite) has no object lock; tier 1 offsite copies are locked "
                       "against early deletion: move this tier's copies to a destination whose server supports object "
                       "lock.")


def test_tier2_and_local_buckets_need_no_lock():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"]["backup.homelab/tier"] = "2"
    estate.b2_bucket.props["lock_days"] = 0.0
    estate.r2_component.props["labels"]["backup.homelab/offsite"] = "false"
    estate.remove(estate.r2_lock)
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_unlabelled_buckets_are_not_applicable():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"] = {}
    estate.r2_component.props = {}
    assert f.run_stack(POLICY, estate.nodes).not_applicable == (
        "no bucket carries backup.homelab/tier and backup.homelab/offsite labels")
