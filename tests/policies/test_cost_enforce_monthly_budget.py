"""cost-enforce-monthly-budget: the estate's estimate fits; over budget the spend per destination is named."""

from __future__ import annotations

import pytest

from policies.rules import config
from policies.rules import cost_enforce_monthly_budget as rule
from policies.rules.support.estate import Estate
from policies.rules.support.policy import StackResource
from tests.policies import fixtures as f

POLICY = rule.POLICY


def _estimate(estate: f.Estate, settings: dict | None = None) -> tuple[float, dict[str, float], list[str]]:
    values = config.settings(settings, rule.META.config_keys)
    resources = [StackResource(n.urn, n.type, n.name, n.props, n.parent.urn if n.parent else None)
                 for n in estate.nodes]
    return rule.estimate(Estate.build(resources, values), values)


def test_estimate_counts_object_storage_copies_at_the_kind_price():
    total, per_destination, unpriced = _estimate(f.Estate())
    assert per_destination == pytest.approx({"b2": (1 + 10 + 500) * 6 / 1000, "r2": (1 + 10 + 500) * 15 / 1000})
    assert total == pytest.approx(511 * 21 / 1000)
    assert unpriced == []


def test_price_label_and_destination_price_win():
    estate = f.Estate()
    estate.b2_bucket.props["bucket_info"]["backup.homelab/price-usd-per-tb-month"] = "5"
    _, per_destination, _ = _estimate(estate, {"pricesUsdPerTbMonth": {"r2": 10}})
    assert per_destination == pytest.approx({"b2": 511 * 5 / 1000, "r2": 511 * 10 / 1000})


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_over_budget():
    estate = f.Estate()
    estate.photos.props["size_gb"] = 3000.0
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "estimated offsite storage costs 63.23 USD/month (r2 45.16, b2 18.07; largest: dataset photos 63.00, dataset "
        "immich-db 0.21, dataset vaultwarden 0.02), above the budget of 30.00 USD/month; move large datasets to a "
        "cheaper destination, drop offsite copies of re-downloadable data, or raise budgetUsdPerMonth for this "
        "stack."]
    assert outcome.urns == [None]


def test_budget_comes_from_config():
    (message,) = f.run_stack(POLICY, f.Estate().nodes, config={"budgetUsdPerMonth": 5}).messages
    assert message.startswith("estimated offsite storage costs 10.73 USD/month (r2 7.67, b2 3.07; largest: dataset "
                              "photos 10.50,")
    assert "above the budget of 5.00 USD/month;" in message


def test_nothing_priceable_is_not_applicable():
    estate = f.Estate()
    for node in (estate.vaultwarden, estate.immich_db, estate.photos):
        node.props = {}
    assert f.run_stack(POLICY, estate.nodes).not_applicable == (
        "no object-storage copy with a known size and price (unpriced: immich-db->b2, immich-db->r2, photos->b2, "
        "photos->r2, vaultwarden->b2, vaultwarden->r2)")
