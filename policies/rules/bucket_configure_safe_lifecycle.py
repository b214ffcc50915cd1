"""A repository bucket's lifecycle only cleans up: it never expires current objects (design §5).

Backup tools own retention. A lifecycle that deletes current objects destroys repository data behind the tool's back
(a restic pack, a pgBackRest WAL segment). Safe rules only remove noncurrent (S3) or hidden (B2) versions, no sooner
than a day and no sooner than the lock would let them go, and abort stale multipart uploads within a week.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import fmt, number, require
from .support.text import quoted

META = Meta(
    name="bucket-configure-safe-lifecycle",
    description="Bucket lifecycles must never expire current objects and must clean up old versions and uploads "
                "within safe bounds.",
    severity=Severity.HIGH,
    remediation="Keep one whole-bucket rule: noncurrent (hidden) versions expire after max(1, lock + 1) days, "
                "incomplete multipart uploads abort after at most 7 days, and no expiration of current objects.",
    config_keys=("minNoncurrentDays", "maxAbortMultipartDays"),
)
TYPES = (kinds.B2_BUCKET, kinds.S3C_BUCKET, *kinds.AWS_LIFECYCLE, kinds.R2_LIFECYCLE)
_CURRENT_FIX = {
    kinds.B2_BUCKET: "remove the current-object expiry (daysFromUploadingToHiding)",
    kinds.S3C_BUCKET: "remove the Expiration of current objects",
    kinds.R2_LIFECYCLE: "remove delete_objects_transition (R2 has no versions: it deletes live repository data)",
}


def _target(resource: ResourceInput) -> str:
    props = resource.props
    if resource.type in kinds.BUCKETS:
        return f"bucket {quoted(kinds.bucket_name(resource.type, props))}"
    bucket = props.get("bucketName") if resource.type == kinds.R2_LIFECYCLE else props.get("bucket")
    return f"{resource.type.rsplit(':', 1)[-1]} {resource.name} (bucket {quoted(bucket)})"


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for lifecycle rules that could delete live data, or keep garbage too long or too briefly."""
    for key in ("lifecycle", "rules"):
        require(resource.props.get(key), key)
    rules = kinds.lifecycle_rules(resource.type, resource.props)
    if rules is None:
        raise NotApplicable("declares no lifecycle; bucket-missing-lifecycle judges whether it needs one")
    target = _target(resource)
    min_noncurrent = float(settings["minNoncurrentDays"])
    max_abort = float(settings["maxAbortMultipartDays"])
    messages = []
    enabled = [r for r in rules if r.enabled]
    for rule in enabled:
        if rule.expire_current_days is not None:
            fix = _CURRENT_FIX.get(resource.type, "remove expiration (days/date) from the rule")
            messages.append(f"{target} rule {rule.rule_id!r} expires current objects after "
                            f"{fmt(rule.expire_current_days)} days; lifecycle rules must never expire current objects "
                            f"of a repository bucket (the backup tool owns retention): {fix}.")
        if rule.noncurrent_days is not None and rule.noncurrent_days < min_noncurrent:
            messages.append(f"{target} rule {rule.rule_id!r} deletes noncurrent versions after "
                            f"{fmt(rule.noncurrent_days)} days, below the minimum of {fmt(min_noncurrent)}: set "
                            f"noncurrent_days to at least {fmt(min_noncurrent)}.")
        if rule.abort_days is not None and rule.abort_days > max_abort:
            messages.append(f"{target} rule {rule.rule_id!r} aborts incomplete multipart uploads after "
                            f"{fmt(rule.abort_days)} days, above the maximum of {fmt(max_abort)}: abort them after "
                            f"{fmt(max_abort)} days or fewer.")
    if not any(r.abort_days is not None for r in enabled):
        messages.append(f"{target} has no rule aborting incomplete multipart uploads; add one that aborts them after "
                        f"at most {fmt(max_abort)} days (abort_multipart_days), or failed uploads are billed forever.")
    if resource.type in (kinds.B2_BUCKET, kinds.S3C_BUCKET):
        lock = number(require(resource.props.get("lock_days", 0), "lock_days"))
        for rule in enabled:
            if lock and rule.noncurrent_days is not None and rule.noncurrent_days < lock:
                messages.append(f"{target} deletes noncurrent versions after {fmt(rule.noncurrent_days)} days but "
                                f"locks them for {fmt(lock)} days; noncurrent expiry must be at least the lock period: "
                                f"set noncurrent_days to {fmt(lock + 1)}.")
    return messages


POLICY = resource_policy(META, TYPES, check)
