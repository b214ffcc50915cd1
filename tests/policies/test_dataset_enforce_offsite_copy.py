"""dataset-enforce-offsite-copy: the estate passes; a Tier 1 dataset without an offsite copy is named."""

from __future__ import annotations

from policies.rules import dataset_enforce_offsite_copy as rule
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
