"""Offsite buckets of tiers that demand it are locked where a lock works: a stolen key or ransomware cannot delete
them early, and the tools still can expire what they wrote.

A lock works on a versioned bucket: B2 (`lock_days`), S3-compatible servers with object lock (`lock_days`), AWS (an
object-lock configuration). R2 buckets must carry no lock rule: R2 has no versioning, and its lock rules refuse the
overwrites and deletes restic and pgBackRest make (the R2 lock drill). Buckets that cannot lock (R2, Garage) are not
flagged here; dataset-enforce-offsite-copy asks each such dataset for a locked copy elsewhere. Tier and
offsite-ness come from the bucket's `backup.homelab/*` labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .config import tier_requirements
from .support.estate import Estate
from .support.kinds import UNLOCKABLE_KINDS
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import fmt

META = Meta(
    name="bucket-enforce-object-lock",
    description="Offsite buckets of tiers that require it must be locked where a lock works; R2 buckets never.",
    severity=Severity.HIGH,
    remediation="Give the bucket a default governance lock shorter than the tools' shortest retention window: "
                "lock_days on B2/S3-compatible buckets, a BucketObjectLockConfiguration on AWS. Remove R2BucketLock "
                "rules from R2 backup buckets.",
    config_keys=("tiers",),
)
_FIX = {
    "b2": "set lock_days (the bucket is recreated with file lock)",
    "s3-compatible": "set lock_days, on a server whose capabilities include object_lock",
    "s3": "add a BucketObjectLockConfiguration with a GOVERNANCE default retention",
}


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for unlocked offsite buckets of tiers that require a lock."""
    estate = Estate.build(resources, settings)
    labelled = [b for b in estate.buckets if b.tier is not None and b.offsite is not None]
    if not labelled:
        raise NotApplicable("no bucket carries backup.homelab/tier and backup.homelab/offsite labels")
    violations = []
    for bucket in labelled:
        if bucket.kind in UNLOCKABLE_KINDS and bucket.lock_days:
            violations.append(Violation(
                f"{bucket.label} has an R2 bucket lock rule ({fmt(bucket.lock_days)} days); "
                f"{UNLOCKABLE_KINDS[bucket.kind]} (backup.info on every backup, lock files, prune, expire), so "
                "backups and retention fail under it: remove the R2BucketLock and keep the tier's locked copy on a "
                "versioned, object-locked destination (b2, s3, or s3-compatible with object lock).", bucket.urn))
            continue
        needs = tier_requirements(settings, bucket.tier) if bucket.tier is not None else None
        if needs is None or not needs.lock_required or not bucket.offsite:
            continue
        if bucket.lock_days or not bucket.lock_supported:
            continue
        violations.append(Violation(
            f"{bucket.label} (tier {bucket.tier}, offsite) has no object lock; tier {bucket.tier} offsite copies "
            f"are locked against early deletion: {_FIX[bucket.kind]}.", bucket.urn))
    return violations


POLICY = stack_policy(META, check)
