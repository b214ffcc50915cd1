"""Each writer's credential reaches one bucket: a leaked key then exposes one repository set, not the account.

B2 application keys must be restricted to one bucket; Cloudflare tokens must name exactly one R2 bucket resource
and no account-wide one; an AWS writer's IAM policy may only name objects and prefixes of one bucket.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.iam import allow_statements, s3_bucket_of, token_resources
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import is_unknown, require

META = Meta(
    name="credential-enforce-single-bucket-scope",
    description="Backup credentials must be scoped to a single bucket.",
    severity=Severity.HIGH,
    remediation="Restrict B2 keys with bucket_id, give Cloudflare tokens only "
                "com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket> resources, and limit IAM writer "
                "policies to arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/<prefix>/*.",
)
R2_BUCKET_PREFIX = "com.cloudflare.edge.r2.bucket."
TYPES = (kinds.B2_KEY, kinds.CF_API_TOKEN, kinds.CF_ACCOUNT_TOKEN, kinds.AWS_USER_POLICY)


def _b2(resource: ResourceInput) -> list[str]:
    props = resource.props
    name = props.get("key_name") if isinstance(props.get("key_name"), str) else resource.name
    bucket_ids = props.get("bucket_ids")
    if isinstance(bucket_ids, list) and len(bucket_ids) > 1:
        return [f"B2 application key {name!r} is restricted to {len(bucket_ids)} buckets; a writer's key reaches one "
                "bucket: create one key per bucket, each with a single bucket_id."]
    bucket = props.get("bucket_id")
    if is_unknown(bucket) or (isinstance(bucket, str) and bucket) or (isinstance(bucket_ids, list) and bucket_ids):
        return []
    return [f"B2 application key {name!r} has no bucket restriction, so it reaches every bucket of the account; pass "
            "bucket_id of the one bucket it writes (bucket.bucket_id)."]


def _cloudflare(resource: ResourceInput) -> list[str]:
    policies = require(resource.props.get("policies"), "policies")
    name = resource.props.get("name") if isinstance(resource.props.get("name"), str) else resource.name
    buckets: set[str] = set()
    messages = []
    for index, policy in enumerate(policies if isinstance(policies, list) else []):
        if not isinstance(policy, dict) or policy.get("effect", "allow") != "allow":
            continue
        scope = token_resources(require(policy.get("resources"), "policies", index, "resources"))
        if scope is None:
            messages.append(f"Cloudflare token {name!r} policy {index} has resources that cannot be read; use a JSON "
                            f"object with one {R2_BUCKET_PREFIX}<account>_<jurisdiction>_<bucket> key.")
            continue
        broad = [k for k in scope if not k.startswith(R2_BUCKET_PREFIX) or "*" in k[len(R2_BUCKET_PREFIX):]]
        if broad:
            messages.append(f"Cloudflare token {name!r} policy {index} is scoped to {', '.join(sorted(broad))}, "
                            "beyond one R2 bucket; scope it to "
                            f"{R2_BUCKET_PREFIX}<account>_<jurisdiction>_<bucket> only.")
        buckets.update(k for k in scope if k not in broad)
    if len(buckets) > 1:
        messages.append(f"Cloudflare token {name!r} reaches {len(buckets)} R2 buckets ({', '.join(sorted(buckets))}); "
                        "a writer's token reaches one bucket: create one token per bucket.")
    return messages


def _aws(resource: ResourceInput) -> list[str]:
    document = require(resource.props.get("policy"), "policy")
    user = resource.props.get("user")
    target = f"IAM policy {resource.name} (user {user if isinstance(user, str) else '?'})"
    statements = allow_statements(document)
    if statements is None:
        return [f"{target} is not a readable JSON policy document; write it with json.dumps({{...}})."]
    buckets: set[str] = set()
    messages = []
    for statement in statements:
        if statement.not_resource:
            messages.append(f"{target} statement {statement.sid} uses NotResource, which allows every other "
                            "resource; list the bucket's ARNs under Resource instead.")
            continue
        for arn in statement.resources:
            bucket = s3_bucket_of(arn)
            if bucket is None:
                messages.append(f"{target} statement {statement.sid} allows resource {arn!r}, which is not one S3 "
                                "bucket; name arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/<prefix>/* only.")
            else:
                buckets.add(bucket)
    if len(buckets) > 1:
        messages.append(f"{target} reaches {len(buckets)} buckets ({', '.join(sorted(buckets))}); a writer reaches "
                        "one bucket: give each bucket its own user and policy.")
    return messages


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for credentials that reach more than one bucket."""
    if resource.type == kinds.B2_KEY:
        return _b2(resource)
    if resource.type in (kinds.CF_API_TOKEN, kinds.CF_ACCOUNT_TOKEN):
        return _cloudflare(resource)
    return _aws(resource)


POLICY = resource_policy(META, TYPES, check)
