"""Shared reasoning of the restore-drill and integrity-check rules: is there one, and does it come often enough."""

from __future__ import annotations

from .estate import Dataset, Timed
from .policy import Violation
from .props import LABEL_VERIFICATION, fmt


def cadence_violation(dataset: Dataset, found: list[Timed], every_days: int, what: str, how: str) -> Violation | None:
    """A violation when no scheduled `what` runs at least every `every_days` days; None when one does."""
    if every_days <= 0:
        return None
    readable = [(t.gap_hours / 24, t) for t in found if t.gap_hours is not None]
    if not readable:
        return Violation(
            f"{dataset.label} has no scheduled {what}; tier {dataset.tier} needs one at least every {fmt(every_days)} "
            f"days: {how} (or label the object that does it {LABEL_VERIFICATION}="
            f"{'drill' if 'drill' in what else 'check'}).", dataset.urn)
    days, best = min(readable, key=lambda pair: pair[0])
    if days > every_days + 1e-9:
        return Violation(
            f"{dataset.label}: its {what} runs every {fmt(round(days, 2))} days ({best.what}, {best.text!r}); tier "
            f"{dataset.tier} needs one at least every {fmt(every_days)} days: schedule it more often.", best.urn)
    return None
