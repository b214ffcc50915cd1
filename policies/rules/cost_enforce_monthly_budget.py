"""The estate's storage bill stays within budget (the homelab notes care about a few USD a month).

Estimate, from declared inputs only: for every dataset and every object-storage copy it makes itself (NAS and NFS
copies cost nothing extra; an export's folder is already inside its NAS dataset), `size_gb / 1000 * price` per
month. The price is the bucket's `backup.homelab/price-usd-per-tb-month` label, else the destination's entry in
`pricesUsdPerTbMonth`, else the bucket kind's entry in `kindPricesUsdPerTbMonth`. Retained history and
deduplication are not modelled: the estimate is the live data's floor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Copy, Estate
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import number
from .support.stack import own_copies

META = Meta(
    name="cost-enforce-monthly-budget",
    description="The estimated monthly storage cost of all offsite copies must stay within the budget.",
    severity=Severity.MEDIUM,
    remediation="Move large datasets to a cheaper destination, drop offsite copies of Tier 3 data, or raise "
                "budgetUsdPerMonth in this policy's config (per stack).",
    config_keys=("budgetUsdPerMonth", "pricesUsdPerTbMonth", "kindPricesUsdPerTbMonth"),
)


def _price(copy: Copy, settings: dict[str, Any]) -> float | None:
    if copy.bucket is not None and copy.bucket.price is not None:
        return copy.bucket.price
    named = number(settings["pricesUsdPerTbMonth"].get(copy.destination))
    if named is not None:
        return named
    kind = copy.bucket.kind if copy.bucket is not None else None
    return number(settings["kindPricesUsdPerTbMonth"].get(kind)) if kind else None


def estimate(estate: Estate, settings: dict[str, Any]) -> tuple[float, dict[str, float], list[str]]:
    """(total USD/month, per destination, copies that could not be priced)."""
    total, per_destination, _, unpriced = _estimate(estate, settings)
    return total, per_destination, unpriced


def _estimate(estate: Estate, settings: dict[str, Any]) -> tuple[float, dict[str, float], dict[str, float], list[str]]:
    per_destination: dict[str, float] = defaultdict(float)
    per_dataset: dict[str, float] = defaultdict(float)
    unpriced = []
    for dataset in estate.datasets_sorted():
        for copy in own_copies(dataset):
            if copy.medium != "object-storage":
                continue
            price = _price(copy, settings)
            if price is None or dataset.size_gb is None:
                unpriced.append(f"{dataset.name}->{copy.destination}")
                continue
            per_destination[copy.destination] += dataset.size_gb / 1000 * price
            per_dataset[dataset.name] += dataset.size_gb / 1000 * price
    return sum(per_destination.values()), dict(per_destination), dict(per_dataset), unpriced


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """A violation when the estimate exceeds the budget, naming the biggest spenders."""
    estate = Estate.build(resources, settings)
    total, per_destination, per_dataset, unpriced = _estimate(estate, settings)
    if not per_destination:
        raise NotApplicable("no object-storage copy with a known size and price" +
                            (f" (unpriced: {', '.join(unpriced)})" if unpriced else ""))
    budget = float(settings["budgetUsdPerMonth"])
    if total <= budget + 1e-9:
        return []
    spend = ", ".join(f"{d} {v:.2f}" for d, v in sorted(per_destination.items(), key=lambda i: -i[1]))
    largest = ", ".join(f"dataset {d} {v:.2f}" for d, v in sorted(per_dataset.items(), key=lambda i: -i[1])[:3])
    return [Violation(
        f"estimated offsite storage costs {total:.2f} USD/month ({spend}; largest: {largest}), above the budget of "
        f"{budget:.2f} USD/month; move large datasets to a cheaper destination, drop offsite copies of "
        "re-downloadable data, or raise budgetUsdPerMonth for this stack.")]


POLICY = stack_policy(META, check)
