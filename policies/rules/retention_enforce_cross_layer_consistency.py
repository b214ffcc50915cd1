"""Retention lives in four places (tool, lifecycle, lock, maintenance); they must agree (design §5).

- A lock shorter than the smallest retention window of the tool writing there: otherwise prune/expire tries to
  delete what retention released while the lock still holds it, and fails (repositories then grow until full).
- Noncurrent-version expiry no sooner than the lock, where lifecycle and lock are separate resources (AWS, R2; the
  B2 and S3-compatible cases are checked on the bucket by bucket-configure-safe-lifecycle).
- Kopia full maintenance at least one day inside the lock period, so it never works on objects still locked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Estate, timed_cron
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import LABEL_DESTINATION, LABEL_TIER, fmt, get, labels_of, number
from .support.stack import own_copies

META = Meta(
    name="retention-enforce-cross-layer-consistency",
    description="Object locks, lifecycle expiry, tool retention and kopia maintenance must agree with each other.",
    severity=Severity.HIGH,
    remediation="Keep lock < the shortest retention window of the tools writing there, noncurrent expiry >= lock, "
                "and kopia maintenance interval <= lock - 1 day; the plan derives all three together.",
)
_RELEASE_FIX = {
    "volsync": "keep the finest retain level (the one covering every backup) longer",
    "pgbackrest": "raise retentionPolicy.diff so differential backups outlive the lock",
}
KOPIA_DEFAULT_SCHEDULE = "0 2 * * *"
"""KopiaMaintenance's default trigger (apis.md §1.8)."""


def _locks(estate: Estate) -> list[Violation]:
    violations = []
    for dataset in estate.datasets_sorted():
        for copy in own_copies(dataset):
            bucket = copy.bucket
            if bucket is None or not bucket.lock_days or copy.release_days is None:
                continue
            released = copy.release_days
            if bucket.lock_days >= released - 1e-9:
                violations.append(Violation(
                    f"dataset {dataset.name}: copy {copy.destination} ({copy.tool}) starts releasing points after "
                    f"{fmt(round(released, 2))} days, but {bucket.label} locks objects for {fmt(bucket.lock_days)} "
                    f"days, so pruning fails until the lock expires; keep the lock below {fmt(round(released, 2))} "
                    f"days (lock_days) or {_RELEASE_FIX.get(copy.tool, _RELEASE_FIX['volsync'])}.", copy.urn))
    return violations


def _lifecycles(estate: Estate) -> list[Violation]:
    violations = []
    for bucket in estate.buckets:
        if not bucket.lock_days or not bucket.lifecycle or bucket.lifecycle_urn in (None, bucket.urn):
            continue
        for rule in bucket.lifecycle:
            if rule.enabled and rule.noncurrent_days is not None and rule.noncurrent_days < bucket.lock_days:
                violations.append(Violation(
                    f"{bucket.label} expires noncurrent versions after {fmt(rule.noncurrent_days)} days (rule "
                    f"{rule.rule_id!r}) but locks them for {fmt(bucket.lock_days)} days; expiry must be at least the "
                    f"lock: set noncurrent_days to {fmt(bucket.lock_days + 1)}.", bucket.lifecycle_urn))
    return violations


def _kopia(estate: Estate) -> list[Violation]:
    violations = []
    for resource, dataset in estate.kopia_maintenance:
        destination = labels_of(resource.props).get(LABEL_DESTINATION)
        tier = dataset.tier if dataset is not None else number(labels_of(resource.props).get(LABEL_TIER))
        bucket = estate.bucket_for(destination if isinstance(destination, str) else None,
                                   int(tier) if tier is not None else None)
        if bucket is None or not bucket.lock_days:
            continue
        value = get(resource.props, "spec", "trigger", "schedule")
        value = value if value is not None else get(resource.props, "spec", "schedule")
        if isinstance(value, Mapping):
            value = get(value, "full", "cron")  # Kopiur's Maintenance: the full run is what must beat the lock
        kind = resource.type.rsplit(":", 1)[-1]
        timed = timed_cron(value if value is not None else KOPIA_DEFAULT_SCHEDULE, resource.urn, kind)
        if timed is None or timed.gap_hours is None:
            continue
        days, limit = timed.gap_hours / 24, bucket.lock_days - 1
        if days > limit + 1e-9:
            violations.append(Violation(
                f"{kind} {resource.name} for {bucket.label} runs every {fmt(round(days, 2))} days "
                f"({timed.text!r}) but the lock is {fmt(bucket.lock_days)} days; full maintenance must run at least "
                f"every {fmt(limit)} days (lock - 1): schedule it more often.", resource.urn))
    return violations


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations where locks, lifecycles, retention and maintenance contradict each other."""
    estate = Estate.build(resources, settings)
    if not any(b.lock_days for b in estate.buckets):
        raise NotApplicable("no bucket in the stack is locked; the layers cannot contradict a lock")
    return _locks(estate) + _lifecycles(estate) + _kopia(estate)


POLICY = stack_policy(META, check)
