"""dataset-enforce-offsite-copy: the estate passes; a Tier 1 dataset without an offsite copy, or without one in a
locked bucket, is named."""

from __future__ import annotations

from policies.rules import dataset_enforce_offsite_copy as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier1_pvc_with_only_the_nas_copy():
    estate = f.Estate()
    estate.remove(estate.vw_b2, estate.vw_r2)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset vaultwarden (tier 1) has 0 offsite copies (copies: nas (nas-disk, local)); tier 1 needs at least 1: "
        "add an offsite destination (b2, r2, s3 or s3-compatible) to datasets[vaultwarden].destinations."]
    assert outcome.urns == [estate.vaultwarden.urn]


def test_bucket_without_offsite_label_does_not_count():
    estate = f.Estate()
    estate.remove(estate.sync_r2)
    del estate.sync_b2.props["offsite"]
    del estate.b2_bucket.props["bucket_info"]["backup.homelab/offsite"]
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset photos (tier 1) has 0 offsite copies (copies: b2 (object-storage, locality unknown: its bucket has "
        "no backup.homelab/offsite label)); tier 1 needs at least 1: add an offsite destination (b2, r2, s3 or "
        "s3-compatible) to datasets[photos].destinations."]


def test_minimum_comes_from_config():
    config = {"tiers": {"1": {"minOffsiteCopies": 3}}}
    messages = f.run_stack(POLICY, f.Estate().nodes, config=config).messages
    assert [m.split(" has ")[0] for m in messages] == [
        "dataset immich-db (tier 1)", "dataset photos (tier 1)", "dataset vaultwarden (tier 1)"]


def test_tier1_pvc_whose_only_offsite_copy_is_on_r2():
    estate = f.Estate()
    estate.remove(estate.vw_b2)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset vaultwarden (tier 1) has no offsite copy in a locked bucket (offsite: r2 (bucket hlb-r2-tier1: R2 "
        "lock rules refuse the overwrites and deletes restic and pgBackRest make)); tier 1 needs one that a stolen key "
        "or ransomware cannot delete early: add a b2 or s3 destination, or an s3-compatible one on a server with "
        "versioning and object lock, to datasets[vaultwarden].destinations."]
    assert outcome.urns == [estate.vaultwarden.urn]


def test_tier1_nas_dataset_whose_offsite_copies_are_unlocked():
    estate = f.Estate()
    estate.b2_bucket.props["lock_days"] = 0.0
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert [m.split(" has ")[0] for m in messages] == [
        "dataset immich-db (tier 1)", "dataset photos (tier 1)", "dataset vaultwarden (tier 1)"]
    assert "offsite: b2 (bucket hlb-b2-tier1: not locked); r2 (bucket hlb-r2-tier1: R2 lock rules" in messages[1]


def test_garage_copy_does_not_count_as_the_locked_one():
    estate = f.Estate()
    estate.remove(estate.sync_b2)
    props = f.s3c_bucket() | {"bucket": "hlb-garage-tier1", "lock_days": 0.0, "versioning": False,
                              "tags": f.bucket_labels(1, "garage", True, 0)}
    props["capabilities"] = {"versioning": False, "lifecycle": True, "object_lock": False}
    estate.add(kinds.S3C_BUCKET, "hlb-garage-tier1-bucket", props)
    estate.add(kinds.CLOUD_SYNC_TASK, "photos-garage", f.cloud_sync_task("hlb-garage-tier1", "5"), estate.photos)
    (message,) = f.run_stack(POLICY, estate.nodes).messages
    assert message.startswith("dataset photos (tier 1) has no offsite copy in a locked bucket (offsite: r2 (bucket "
                              "hlb-r2-tier1: R2 lock rules refuse")
    assert "garage (bucket hlb-garage-tier1: the server has no object lock)" in message


def test_tiers_without_a_lock_requirement_need_no_locked_copy():
    estate = f.Estate()
    estate.remove(estate.vw_b2)
    config = {"tiers": {"1": {"lockRequired": False}}}
    assert f.run_stack(POLICY, estate.nodes, config=config).messages == []


def test_nas_config_into_a_local_only_dataset_has_no_offsite_copy():
    estate = f.Estate()
    estate.add_nas_config()
    assert f.run_stack(POLICY, estate.nodes).messages == []
    estate.nas_cron.props["target_dataset"] = "media"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset nas-config (tier 1) has 0 offsite copies (copies: media (nas-disk, local)); tier 1 needs at least 1: "
        "add an offsite destination (b2, r2, s3 or s3-compatible) to datasets[nas-config].destinations."]
