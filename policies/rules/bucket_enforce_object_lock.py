"""Offsite copies of tiers that demand it are locked: a stolen key or ransomware cannot delete them early.

The lock may sit on the bucket (B2, S3-compatible `lock_days`) or beside it (an AWS object-lock configuration, an
R2 bucket lock rule). Tier and offsite-ness come from the bucket's `backup.homelab/*` labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .config import tier_requirements
from .support.estate import Estate
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy

META = Meta(
    name="bucket-enforce-object-lock",
    description="Offsite buckets of tiers that require it must have an object lock.",
    severity=Severity.HIGH,
    remediation="Give the bucket a default governance lock shorter than the tools' shortest retention window: "
                "lock_days on B2/S3-compatible buckets, a BucketObjectLockConfiguration on AWS, an R2BucketLock rule "
                "on R2.",
    config_keys=("tiers",),
)
_FIX = {
    "b2": "set lock_days (the bucket is recreated with file lock)",
    "s3-compatible": "set lock_days, on a server whose capabilities include object_lock",
    "s3": "add a BucketObjectLockConfiguration with a GOVERNANCE default retention",
    "r2": "add an R2BucketLock with an Age rule",
}


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for unlocked offsite buckets of tiers that require a lock."""
    estate = Estate.build(resources, settings)
    labelled = [b for b in estate.buckets if b.tier is not None and b.offsite is not None]
    if not labelled:
        raise NotApplicable("no bucket carries backup.homelab/tier and backup.homelab/offsite labels")
    violations = []
    for bucket in labelled:
        needs = tier_requirements(settings, bucket.tier) if bucket.tier is not None else None
        if needs is None or not needs.lock_required or not bucket.offsite:
            continue
        if bucket.lock_days:
            continue
        fix = _FIX[bucket.kind]
        if not bucket.lock_supported:
            fix = "move this tier's copies to a destination whose server supports object lock"
        violations.append(Violation(
            f"{bucket.label} (tier {bucket.tier}, offsite) has no object lock; tier {bucket.tier} offsite copies "
            f"are locked against early deletion: {fix}.", bucket.urn))
    return violations


POLICY = stack_policy(META, check)
