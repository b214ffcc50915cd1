"""The monthly storage budget, judged as the policy pack's cost rule judges it, so the two never disagree.

The pack (policies/rules/cost_enforce_monthly_budget.py) estimates the floor of the bill from declared inputs:
for every object-storage copy a dataset makes itself, `size_gb / 1000 * price`. Its budget defaults to 30 USD a
month; `budget_usd_per_month` is the ceiling the pack is configured with for this stack (budgetUsdPerMonth).
"""

from __future__ import annotations

from collections import defaultdict

from inventory.models import ExportSource, Inventory, Location, NfsDestination

PACK_DEFAULT_BUDGET_USD = 30.0
"""The pack's default budgetUsdPerMonth (policies/rules/config.py), used when the inventory sets none."""


def budget_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """The estate's live-data storage cost above the budget the pack enforces."""
    names = {d.name for d in inv.destinations}
    per_destination: dict[str, float] = defaultdict(float)
    per_dataset: dict[str, float] = defaultdict(float)
    for ds in inv.datasets:
        if isinstance(ds.source, ExportSource) or not set(ds.destinations or ()) <= names:
            continue  # an export's copies are its target's; unknown destinations are reported elsewhere
        for dest in inv.destinations_of(ds):
            if isinstance(dest, NfsDestination):
                continue
            cost = ds.size_gb / 1000 * dest.price_usd_per_tb_month
            per_destination[dest.name] += cost
            per_dataset[ds.name] += cost
    total = sum(per_destination.values())
    budget = inv.budget_usd_per_month or PACK_DEFAULT_BUDGET_USD
    if total <= budget + 1e-9:
        return []
    spend = ", ".join(f"{d} {v:.2f}" for d, v in sorted(per_destination.items(), key=lambda i: -i[1]))
    largest = ", ".join(f"dataset {d} {v:.2f}" for d, v in sorted(per_dataset.items(), key=lambda i: -i[1])[:3])
    source = "budget_usd_per_month" if inv.budget_usd_per_month else "the policy pack's default budget"
    return [(("budget_usd_per_month",),
             f"the live data alone costs {total:.2f} USD/month in object storage ({spend}; largest: {largest}), above "
             f"{source} of {budget:.2f} USD/month; move large datasets to a cheaper destination, drop offsite copies "
             "of Tier 3 data, or raise budget_usd_per_month (and the pack's budgetUsdPerMonth to match)")]
