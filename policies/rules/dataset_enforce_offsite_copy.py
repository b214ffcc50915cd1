"""Irreplaceable data has a copy outside the building (3-2-1's "1"): a fire or a burglary takes the rest.

Counts distinct destinations whose buckets are labelled `backup.homelab/offsite=true` (or TrueNAS tasks declared
offsite), including the copies an export's NAS dataset carries for it. A bucket without the label is not counted.

Where the tier requires a lock, at least one offsite copy must sit in a locked bucket (B2, AWS S3, or an S3-compatible
server with versioning and object lock): R2 buckets carry no lock (its lock rules break the tools) and Garage has
none, so copies there count as offsite but not as the locked one. Copies whose bucket is not known yet (preview) are
not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Bucket, Dataset
from .support.kinds import UNLOCKABLE_KINDS
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import copies_phrase, datasets_with_requirements

META = Meta(
    name="dataset-enforce-offsite-copy",
    description="Datasets must keep the minimum number of offsite copies their tier requires, one of them locked where "
                "the tier requires a lock.",
    severity=Severity.CRITICAL,
    remediation="Add an offsite destination (b2, r2, s3 or s3-compatible) to the dataset's destinations; for Tier 1 "
                "the inventory default already includes every offsite destination. A tier that requires a lock needs "
                "one of them on b2, s3, or an s3-compatible server with versioning and object lock.",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for datasets with fewer offsite copies than their tier's minimum."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        if needs.min_offsite < 1:
            continue
        offsite = sorted({c.destination for c in dataset.copies if c.offsite})
        if len(offsite) < needs.min_offsite:
            violations.append(Violation(
                f"{dataset.label} has {len(offsite)} offsite copies (copies: {copies_phrase(dataset)}); tier "
                f"{dataset.tier} needs at least {needs.min_offsite}: add an offsite destination (b2, r2, s3 or "
                f"s3-compatible) to datasets[{dataset.name}].destinations.", dataset.urn))
        elif needs.lock_required:
            violations += _locked_copy(dataset)
    return violations


def _locked_copy(dataset: Dataset) -> list[Violation]:
    """A violation when no offsite copy of the dataset sits in a locked bucket (nothing when that is unknown)."""
    if any(c.offsite is None for c in dataset.copies):
        return []  # a copy of unknown locality may be the locked one; the count above already names it
    offsite = [c for c in dataset.copies if c.offsite]
    if any(c.bucket is not None and c.bucket.lock_days for c in offsite):
        return []
    if any(c.bucket is None or c.bucket.lock_days is None for c in offsite):
        return []
    described = "; ".join(f"{c.destination} ({_why_unlocked(c.bucket)})" for c in offsite if c.bucket is not None)
    return [Violation(
        f"{dataset.label} has no offsite copy in a locked bucket (offsite: {described}); tier {dataset.tier} needs one "
        "that a stolen key or ransomware cannot delete early: add a b2 or s3 destination, or an s3-compatible one on "
        f"a server with versioning and object lock, to datasets[{dataset.name}].destinations.", dataset.urn)]


def _why_unlocked(bucket: Bucket) -> str:
    if bucket.kind in UNLOCKABLE_KINDS:
        return f"{bucket.label}: {UNLOCKABLE_KINDS[bucket.kind]}"
    if not bucket.lock_supported:
        return f"{bucket.label}: the server has no object lock"
    return f"{bucket.label}: not locked"


POLICY = stack_policy(META, check)
