"""dataset-enforce-consistent-tier: the estate passes; unreadable tiers, disagreeing labels and copies into another
tier's bucket are named."""

from __future__ import annotations

from policies.rules import dataset_enforce_consistent_tier as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier_read_from_labels_when_the_component_keeps_no_outputs():
    estate = f.Estate()
    estate.vaultwarden.props = {}
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_dataset_with_no_readable_tier():
    estate = f.Estate()
    estate.photos.props = {}
    estate.remove(estate.photos_drill, estate.photos_check)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset photos has no readable tier: its component records none and nothing protecting it carries one; set "
        "datasets[photos].tier and let the program label every object with it."]
    assert outcome.urns == [estate.photos.urn]


def test_object_labelled_with_another_tier():
    estate = f.Estate()
    estate.vw_b2.props["metadata"]["labels"]["backup.homelab/tier"] = "2"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "vaultwarden-b2 protects dataset vaultwarden (tier 1) but is labelled backup.homelab/tier=2; objects carry "
        "their dataset's tier (alerts and retention follow it): set the label to 1."]
    assert outcome.urns == [estate.vw_b2.urn]


def test_copy_into_a_lower_tier_bucket():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"]["backup.homelab/tier"] = "2"
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset immich-db (tier 1) writes its b2 copy into bucket hlb-b2-tier1, a tier 2 bucket (its lock and "
        "lifecycle follow tier 2); write into the destination's tier 1 bucket.",
        "dataset photos (tier 1) writes its b2 copy into bucket hlb-b2-tier1, a tier 2 bucket (its lock and "
        "lifecycle follow tier 2); write into the destination's tier 1 bucket."]


def test_stack_without_datasets_is_not_applicable():
    estate = f.Estate()
    assert f.run_stack(POLICY, [n for n in estate.nodes if n.type != "homelab-backups:inventory:ProtectedDataset"
                                and n.parent is None]).not_applicable == "the stack declares no ProtectedDataset"
