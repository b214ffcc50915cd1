"""bucket-enforce-object-lock: lockable Tier 1 offsite buckets are locked, named with the kind's fix when not; R2
buckets carry no lock rule (the R2 lock drill); buckets that cannot lock are left to the dataset rule."""

from __future__ import annotations

from policies.rules import bucket_enforce_object_lock as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_r2_bucket_with_a_lock_rule():
    estate = f.Estate()
    lock = estate.add(kinds.R2_LOCK, "hlb-r2-tier1-lock", f.r2_lock(), estate.r2_component)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-r2-tier1 has an R2 bucket lock rule (14 days); R2 lock rules refuse the overwrites and deletes "
        "restic and pgBackRest make (backup.info on every backup, lock files, prune, expire), so backups and "
        "retention fail under it: remove the R2BucketLock and keep the tier's locked copy on a versioned, "
        "object-locked destination (b2, s3, or s3-compatible with object lock)."]
    assert outcome.urns == [estate.r2_bucket.urn]
    lock.props["rules"][0]["enabled"] = False
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_r2_lock_rule_on_a_tier_2_bucket_is_refused_too():
    estate = f.Estate()
    estate.r2_component.props["labels"]["backup.homelab/tier"] = "2"
    estate.add(kinds.R2_LOCK, "hlb-r2-tier1-lock", f.r2_lock(), estate.r2_component)
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("bucket hlb-r2-tier1 has an R2 bucket lock rule (14 days)")


def test_r2_tier1_bucket_without_lock_rule_passes():
    estate = f.Estate()
    assert not [n for n in estate.nodes if n.type == kinds.R2_LOCK]
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_b2_tier1_bucket_with_lock_zero():
    estate = f.Estate()
    estate.b2_bucket.props["lock_days"] = 0.0
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-b2-tier1 (tier 1, offsite) has no object lock; tier 1 offsite copies are locked against early "
        "deletion: set lock_days (the bucket is recreated with file lock)."]
    assert outcome.urns == [estate.b2_bucket.urn]


def test_s3_compatible_server_with_lock_support_but_no_lock():
    estate = f.Estate()
    estate.add(kinds.S3C_BUCKET, "hlb-minio-tier1-bucket", f.s3c_bucket() | {"lock_days": 0.0})
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message == ("bucket hlb-minio-tier1 (tier 1, offsite) has no object lock; tier 1 offsite copies are locked "
                       "against early deletion: set lock_days, on a server whose capabilities include object_lock.")


def test_s3_compatible_server_without_lock_support_is_left_to_the_dataset_rule():
    estate = f.Estate()
    props = f.s3c_bucket() | {"lock_days": 0.0}
    props["capabilities"]["object_lock"] = False
    estate.add(kinds.S3C_BUCKET, "hlb-garage-tier1-bucket", props)
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_tier2_and_local_buckets_need_no_lock():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"]["backup.homelab/tier"] = "2"
    estate.b2_bucket.props["lock_days"] = 0.0
    estate.r2_component.props["labels"]["backup.homelab/offsite"] = "false"
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_unlabelled_buckets_are_not_applicable():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"] = {}
    estate.r2_component.props = {}
    assert f.run_stack(POLICY, estate.nodes).not_applicable == (
        "no bucket carries backup.homelab/tier and backup.homelab/offsite labels")
