"""Every backup bucket says what it holds: `backup.homelab/tier`, `destination` and `offsite` labels.

The pack reads a bucket's tier and offsite-ness from these labels to judge locks, lifecycles and copies; an
unlabelled bucket would slip past all of them. Buckets that take no tags (R2) carry them as their component's
`labels` output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.estate import Estate
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import LABEL_DESTINATION, LABEL_OFFSITE, LABEL_TIER

META = Meta(
    name="bucket-missing-labels",
    description="Every backup bucket must carry its tier, destination and offsite labels.",
    severity=Severity.MEDIUM,
    remediation="Label buckets with backup.homelab/tier, backup.homelab/destination and backup.homelab/offsite (B2 "
                "bucket_info, S3 tags; for R2, register them as the bucket component's `labels` output).",
)
REQUIRED = (LABEL_TIER, LABEL_DESTINATION, LABEL_OFFSITE)
_WHERE = {"b2": "bucket_info", "s3-compatible": "tags", "s3": "tags (backup.homelab:<key>)",
          "r2": "the bucket component's `labels` output (R2 buckets take no tags)"}


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for buckets missing any of the labels the pack reads."""
    estate = Estate.build(resources, settings)
    if not estate.buckets:
        raise NotApplicable("the stack declares no bucket")
    violations = []
    for bucket in estate.buckets:
        missing = [label for label in REQUIRED if label not in bucket.labels]
        if missing:
            violations.append(Violation(
                f"{bucket.label} carries no {', '.join(missing)}; the pack reads tier and offsite-ness from them "
                f"(locks, lifecycles, copies): set them in {_WHERE[bucket.kind]}.", bucket.urn))
    return violations


POLICY = stack_policy(META, check)
