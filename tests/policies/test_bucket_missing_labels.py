"""bucket-missing-labels: labelled buckets (own tags or the component's output) pass; unlabelled ones are named."""

from __future__ import annotations

from policies.rules import bucket_missing_labels as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_r2_bucket_whose_component_registers_no_labels():
    estate = f.Estate()
    estate.r2_component.props = {"bucket": "hlb-r2-tier1"}
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "bucket hlb-r2-tier1 carries no backup.homelab/tier, backup.homelab/destination, backup.homelab/offsite; the "
        "pack reads tier and offsite-ness from them (locks, lifecycles, copies): set them in the bucket component's "
        "`labels` output (R2 buckets take no tags)."]
    assert outcome.urns == [estate.r2_bucket.urn]


def test_b2_bucket_without_offsite_label():
    estate = f.Estate()
    del estate.b2_bucket.props["bucket_info"]["backup.homelab/offsite"]
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "bucket hlb-b2-tier1 carries no backup.homelab/offsite; the pack reads tier and offsite-ness from them (locks, "
        "lifecycles, copies): set them in bucket_info."]


def test_stack_without_buckets_is_not_applicable():
    estate = f.Estate()
    estate.remove(estate.b2_bucket, estate.r2_bucket)
    assert f.run_stack(POLICY, estate.nodes).not_applicable == "the stack declares no bucket"
