"""kopiur-enforce-replication-rpo: daily replication of a tier-1 dataset passes; weekly is named with the bound."""

from __future__ import annotations

from policies.rules import kopiur_enforce_replication_rpo as rule
from policies.rules.config import TIER_DEFAULTS
from tests.policies import fixtures as f

POLICY = rule.POLICY


def _estate():
    estate = f.Estate()
    return estate, estate.add_kopiur()


def test_daily_replication_meets_the_tier_one_offsite_rpo():
    estate, _ = _estate()
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_weekly_replication_is_named():
    estate, nodes = _estate()
    nodes["r2"].props = f.kopiur_replication("r2", "55 3 * * 0")
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset paperless (tier 1): RepositoryReplication paperless-r2 copies the NAS repository offsite every 7 d "
        "('55 3 * * 0'), so that replica can be that old; tier 1 allows offsite copies at most 24 h old: "
        "replicate at least every 24 h."]
    assert outcome.urns == [nodes["r2"].urn]


def test_the_bound_comes_from_the_pack_config():
    estate, nodes = _estate()
    nodes["r2"].props = f.kopiur_replication("r2", "55 3 * * 0")
    config = {"tiers": {**TIER_DEFAULTS, "1": {**TIER_DEFAULTS["1"], "maxOffsiteRpoHours": 24 * 7}}}
    assert f.run_stack(POLICY, estate.nodes, config).messages == []


def test_not_applicable_without_replications():
    assert f.run_stack(POLICY, f.Estate().nodes).not_applicable
