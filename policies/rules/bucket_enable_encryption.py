"""Backup buckets encrypt at rest, on top of the tools' client-side encryption (design §4: required offsite).

B2 buckets from this project get SSE-B2 and R2 encrypts everything, so only explicit settings can break it: a B2
encryption mode of none, an S3-compatible `encryption: false`, or an AWS encryption configuration without SSE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import get, require, truthy
from .support.text import quoted

META = Meta(
    name="bucket-enable-encryption",
    description="Backup buckets must encrypt objects at rest.",
    severity=Severity.HIGH,
    remediation="Leave B2 buckets on SSE-B2, keep encryption on for S3-compatible buckets, and give AWS buckets a "
                "server-side encryption configuration with AES256 or aws:kms.",
)
AWS_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
B2_MODES = ("SSE-B2", "SSE-C")
TYPES = (kinds.B2_BUCKET, kinds.S3C_BUCKET, kinds.AWS_BUCKET, kinds.AWS_BUCKET_V2, *kinds.AWS_ENCRYPTION,
         kinds.R2_BUCKET)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for settings that leave a bucket's objects unencrypted at rest."""
    props, t = resource.props, resource.type
    if t == kinds.R2_BUCKET:
        raise NotApplicable("R2 encrypts every object at rest (AES-256); there is nothing to configure")
    if t in (kinds.AWS_BUCKET, kinds.AWS_BUCKET_V2):
        raise NotApplicable("S3 encrypts new objects with SSE-S3 by default; an explicit "
                            "BucketServerSideEncryptionConfiguration is checked on its own")
    if t == kinds.B2_BUCKET:
        name = props.get("bucket_name")
        for key in ("encryption", "default_server_side_encryption"):
            setting = props.get(key)
            if isinstance(setting, Mapping):
                mode = require(setting.get("mode"), key, "mode")
                if mode not in B2_MODES:
                    return [f"bucket {quoted(name)} sets {key}.mode {quoted(mode)}; backup buckets encrypt at rest: "
                            "use 'SSE-B2' (or drop the setting: the provider applies SSE-B2)."]
        return []
    if t == kinds.S3C_BUCKET:
        if truthy(props.get("encryption")) is False:
            return [f"bucket {quoted(props.get('bucket'))} sets encryption=false; backup buckets encrypt at rest: "
                    "remove it, or choose a server that encrypts at rest."]
        return []
    rules = props.get("rules")
    target = f"BucketServerSideEncryptionConfiguration {resource.name} (bucket {quoted(props.get('bucket'))})"
    if not isinstance(rules, list) or not rules:
        return [f"{target} has no rules; add one with apply_server_side_encryption_by_default.sse_algorithm "
                "'AES256' (or 'aws:kms')."]
    messages = []
    for index, rule in enumerate(rules):
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if require(algorithm, "rules", index, "sseAlgorithm") not in AWS_ALGORITHMS:
            messages.append(f"{target} rule {index} uses sse_algorithm {quoted(algorithm)}; use one of "
                            f"{', '.join(AWS_ALGORITHMS)}.")
    return messages


POLICY = resource_policy(META, TYPES, check)
