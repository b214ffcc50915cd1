"""Enough independent copies on enough kinds of media (3-2-1's "3" and "2"), and a local one where the tier wants it.

The primary counts as one copy on its own medium (cluster disk for PVCs, databases and exports; NAS disk for
TrueNAS datasets). Each destination adds one copy on its medium (NFS: NAS disk; buckets: object storage).
Snapshots on the same pool are not copies, but they are a NAS dataset's fast local restore path, so they satisfy
the tier's local-copy minimum (design §4: Tier 2 "local required", Tier 3 "local only").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Dataset
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import copies_phrase, datasets_with_requirements

META = Meta(
    name="dataset-enforce-copies-and-media",
    description="Datasets must keep the copies (primary included), distinct media and local copies their tier "
                "requires.",
    severity=Severity.CRITICAL,
    remediation="Add destinations to the dataset until it has the tier's copies, at least one of them on a medium "
                "other than the primary's (a NAS export for cluster data, object storage for NAS data).",
    config_keys=("tiers",),
)


def _where(dataset: Dataset, more: bool, local: bool) -> str:
    hints = []
    if more:
        hints.append(f"on a medium other than {dataset.primary_medium}")
    if local:
        hints.append("at least one of them local (an NFS share or a bucket on the LAN)")
    return ", " + " and ".join(hints) if hints else ""


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets short of copies or media."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        copies = 1 + len({c.destination for c in dataset.copies})
        media = sorted(dataset.media())
        problems = []
        if copies < needs.min_copies:
            problems.append(f"{copies} copies including the primary, below {needs.min_copies}")
        if len(media) < needs.min_media:
            problems.append(f"{len(media)} media ({', '.join(media)}), below {needs.min_media}")
        local = len({c.destination for c in dataset.copies if c.offsite is False}) + (1 if dataset.local_keeps else 0)
        if local < needs.min_local:
            problems.append(f"{local} local copies, below {needs.min_local}")
        if problems:
            violations.append(Violation(
                f"{dataset.label} has {' and '.join(problems)} (primary on {dataset.primary_medium}; copies: "
                f"{copies_phrase(dataset)}); add destinations to datasets[{dataset.name}].destinations"
                f"{_where(dataset, copies < needs.min_copies or len(media) < needs.min_media, local < needs.min_local)}"
                ".", dataset.urn))
    return violations


POLICY = stack_policy(META, check)
