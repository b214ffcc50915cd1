"""The budget is judged as the pack judges it: live data in object storage against budget_usd_per_month."""

from __future__ import annotations

from inventory import load_inventory
from tests.inventory.problems import problems


def test_over_the_declared_budget(estate):
    estate["budget_usd_per_month"] = 10
    assert problems(estate) == [("budget_usd_per_month", "rule",
                                 "the live data alone costs 10.75 USD/month in object storage (r2 7.68, b2 3.07; "
                                 "largest: dataset photos 10.50, dataset immich-db 0.21, dataset vaultwarden 0.04), "
                                 "above budget_usd_per_month of 10.00 USD/month; move large datasets to a cheaper "
                                 "destination, drop offsite copies of Tier 3 data, or raise budget_usd_per_month (and "
                                 "the pack's budgetUsdPerMonth to match)")]


def test_without_a_budget_the_packs_default_applies(estate):
    del estate["budget_usd_per_month"]
    estate["datasets"][3]["size_gb"] = 2000
    assert problems(estate) == [("budget_usd_per_month", "rule",
                                 "the live data alone costs 42.25 USD/month in object storage (r2 30.18, b2 12.07; "
                                 "largest: dataset photos 42.00, dataset immich-db 0.21, dataset vaultwarden 0.04), "
                                 "above the policy pack's default budget of 30.00 USD/month; move large datasets to a "
                                 "cheaper destination, drop offsite copies of Tier 3 data, or raise "
                                 "budget_usd_per_month (and the pack's budgetUsdPerMonth to match)")]


def test_nas_copies_cost_nothing(estate):
    estate["budget_usd_per_month"] = 11
    estate["datasets"][4]["size_gb"] = 100_000
    assert load_inventory(estate).datasets[4].size_gb == 100_000
