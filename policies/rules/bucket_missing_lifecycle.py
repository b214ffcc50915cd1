"""Every backup bucket has a lifecycle: without one, hidden/noncurrent versions and failed uploads are kept forever.

B2 hides instead of deleting and S3 keeps noncurrent versions, so a tool's prune frees nothing until a lifecycle
removes them; R2 needs its abort-multipart rule re-declared. S3-compatible servers whose capability table says they
implement no lifecycle are exempt (nothing can be configured there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Estate
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy

META = Meta(
    name="bucket-missing-lifecycle",
    description="Every backup bucket must have a lifecycle configuration.",
    severity=Severity.MEDIUM,
    remediation="Give the bucket its lifecycle: the `lifecycle` input on B2/S3-compatible buckets, a "
                "BucketLifecycleConfiguration on AWS, an R2BucketLifecycle on R2.",
)
_FIX = {
    "b2": "set lifecycle {noncurrent_days, abort_multipart_days}",
    "s3-compatible": "set lifecycle {noncurrent_days, abort_multipart_days}",
    "s3": "add a BucketLifecycleConfiguration expiring noncurrent versions and aborting multipart uploads",
    "r2": "add an R2BucketLifecycle that aborts multipart uploads after 7 days",
}


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for buckets with no lifecycle rules at all."""
    estate = Estate.build(resources, settings)
    if not estate.buckets:
        raise NotApplicable("the stack declares no bucket")
    violations = []
    for bucket in estate.buckets:
        if bucket.lifecycle or not bucket.lifecycle_supported:
            continue
        tier = f" (tier {bucket.tier})" if bucket.tier is not None else ""
        violations.append(Violation(
            f"{bucket.label}{tier} has no lifecycle, so deleted (hidden/noncurrent) versions and incomplete uploads "
            f"are kept and billed forever: {_FIX[bucket.kind]}.", bucket.urn))
    return violations


POLICY = stack_policy(META, check)
