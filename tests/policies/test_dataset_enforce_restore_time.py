"""dataset-enforce-restore-time: the fastest offsite copy of a dataset must restore its size within the tier's
site-loss RTO; the bandwidth comes from the dataset component, then the pack's config by destination, then by kind."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from policies.rules import dataset_enforce_restore_time as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_is_advisory():
    assert POLICY.enforcement_level == EnforcementLevel.ADVISORY


def test_large_tier1_dataset_over_a_home_downlink_is_flagged():
    # photos: 500 GB, offsite on b2 and r2, 100 Mbit/s by kind: 500 * 8000 / 100 s = 11.1 h > 8 h.
    estate = f.Estate()
    outcome = f.run_stack(POLICY, estate.nodes)
    (message,) = outcome.messages
    assert message.startswith("dataset photos (tier 1): after losing the site its fastest copy, ")
    assert "takes about 11.1 h to restore 500 GB at 100 Mbit/s; tier 1 allows 8 h" in message
    assert outcome.urns[0] in {estate.sync_b2.urn, estate.sync_r2.urn}


def test_the_component_declared_bandwidth_wins_and_the_fastest_copy_counts():
    estate = f.Estate()
    estate.photos.props["restore_mbps"] = {"b2": 100, "r2": 500}  # 500 GB at 500 Mbit/s: 2.2 h
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_config_bandwidth_per_destination_and_target_per_tier():
    estate = f.Estate()
    assert f.run_stack(POLICY, estate.nodes, {"restoreMbps": {"r2": 1000}}).messages == []
    assert f.run_stack(POLICY, estate.nodes, {"tiers": {"1": {"maxSiteLossRestoreHours": 12}}}).messages == []
    (message,) = f.run_stack(POLICY, estate.nodes, {"tiers": {"1": {"maxSiteLossRestoreHours": 0.5}}}).messages
    assert "tier 1 allows 0.5 h" in message and "dataset photos" in message


def test_tiers_without_a_site_loss_target_and_local_copies_are_not_judged():
    estate = f.Estate()
    estate.photos.props["size_gb"] = 50_000.0
    estate.photos.props["tier"] = 2.0
    for node in estate.nodes:
        labels = node.props.get("labels") if isinstance(node.props, dict) else None
        if isinstance(labels, dict) and labels.get("backup.homelab/dataset") == "photos":
            labels["backup.homelab/tier"] = "2"
    assert f.run_stack(POLICY, estate.nodes).messages == []
