"""A dataset's fastest offsite copy can be restored within the tier's site-loss RTO (advisory).

After losing the site only offsite copies are left, and bringing a dataset back from one is bounded by the download:
size over the restore bandwidth, plus the tool's own time. The bandwidth is what the ProtectedDataset component
declares per destination (`restore_mbps`); else `restoreMbps` by destination name, else `kindRestoreMbps` by the
bucket's kind (a copy on the NAS counts as LAN). Advisory: the remedy (a faster line, a nearer offsite copy, a
smaller dataset, or a looser target) is a decision, not a mistake in the code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .support.estate import Copy, Dataset
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.props import fmt
from .support.stack import datasets_with_requirements

META = Meta(
    name="dataset-enforce-restore-time",
    description="Each dataset's fastest offsite copy must restore its size within the tier's site-loss RTO.",
    severity=Severity.MEDIUM,
    remediation="Add an offsite copy that restores faster (a nearer store, a faster line: set the destination's "
                "restore_mbps to what it really gets), split the dataset, or raise maxSiteLossRestoreHours knowingly.",
    config_keys=("tiers", "restoreMbps", "kindRestoreMbps", "restoreOverheadHours"),
    enforcement=EnforcementLevel.ADVISORY,
)
LAN_MBPS = 1000.0


def _mbps(dataset: Dataset, copy: Copy, settings: Mapping[str, Any]) -> float | None:
    if copy.destination in dataset.restore_mbps:
        return dataset.restore_mbps[copy.destination]
    if copy.destination in settings["restoreMbps"]:
        return float(settings["restoreMbps"][copy.destination])
    if copy.bucket is None:
        return LAN_MBPS if copy.medium == "nas-disk" else None
    kind = settings["kindRestoreMbps"].get(copy.bucket.kind)
    return None if kind is None else float(kind)


def _duration(hours: float) -> str:
    return f"{fmt(round(hours, 1))} h" if hours < 48 else f"{fmt(round(hours / 24, 1))} days"


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets whose quickest offsite restore takes longer than the tier's site-loss RTO."""
    _, pairs = datasets_with_requirements(resources, settings)
    overhead = float(settings["restoreOverheadHours"])
    violations = []
    for dataset, needs in pairs:
        target = needs.max_site_loss_restore_hours
        if target is None or dataset.size_gb is None:
            continue
        timed = []
        for copy in dataset.copies:
            if copy.offsite is not True:
                continue
            mbps = _mbps(dataset, copy, settings)
            if mbps is not None and mbps > 0:
                timed.append((dataset.size_gb * 8000 / mbps / 3600 + overhead, mbps, copy))
        if not timed:
            continue  # no offsite copy with a known bandwidth: dataset-enforce-offsite-copy's business
        hours, mbps, best = min(timed, key=lambda t: (t[0], t[2].destination))
        if hours > target + 1e-9:
            violations.append(Violation(
                f"{dataset.label}: after losing the site its fastest copy, {best.destination}, takes about "
                f"{_duration(hours)} to restore {fmt(dataset.size_gb)} GB at {fmt(mbps)} Mbit/s; tier {dataset.tier} "
                f"allows {fmt(target)} h: add a faster offsite copy or set the real restore_mbps.", best.urn))
    return violations


POLICY = stack_policy(META, check)
