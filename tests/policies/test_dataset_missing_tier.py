"""dataset-missing-tier: a declared tier 1-3 passes; a missing or unknown tier is named."""

from __future__ import annotations

from policies.rules import dataset_missing_tier as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_datasets_pass():
    for tier in (1, 2, 3):
        assert f.run_resource(POLICY, kinds.DATASET, f.protected_dataset(tier=tier)).messages == []


def test_dataset_without_tier():
    props = f.protected_dataset()
    del props["tier"]
    assert f.run_resource(POLICY, kinds.DATASET, props).messages == [
        "dataset vaultwarden declares no tier; every dataset needs one of tiers 1, 2, 3: set "
        "datasets[vaultwarden].tier."]


def test_dataset_with_a_tier_the_pack_does_not_know():
    props = f.protected_dataset() | {"tier": 4.0}
    assert f.run_resource(POLICY, kinds.DATASET, props).messages == [
        "dataset vaultwarden declares tier 4; every dataset needs one of tiers 1, 2, 3: set "
        "datasets[vaultwarden].tier."]


def test_unknown_tier_downgrades_to_advisory():
    outcome = f.run_resource(POLICY, kinds.DATASET, f.protected_dataset() | {"tier": f.UNKNOWN})
    assert outcome.unknown == "string value at .tier can't be known during preview"
