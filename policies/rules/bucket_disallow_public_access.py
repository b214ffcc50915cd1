"""Backup buckets are private: a public bucket publishes every repository (encrypted or not) and its metadata.

Checks what each kind can make public: a B2 bucket type, an S3-compatible ACL, AWS public-access blocks, ACLs and
bucket policies, and R2's public r2.dev or custom domains. R2 buckets and B2 buckets without a type are private.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import require, truthy
from .support.text import quoted

META = Meta(
    name="bucket-disallow-public-access",
    description="Backup buckets must not be readable by the public.",
    severity=Severity.CRITICAL,
    remediation="Keep buckets private: B2 bucket_type allPrivate, no public ACL or policy, all four AWS public-access "
                "blocks true, no r2.dev or custom domain on R2 backup buckets.",
)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
_BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
TYPES = (kinds.B2_BUCKET, kinds.S3C_BUCKET, kinds.AWS_BUCKET, kinds.AWS_BUCKET_V2, kinds.AWS_PUBLIC_ACCESS_BLOCK,
         *kinds.AWS_ACL, kinds.AWS_BUCKET_POLICY, kinds.R2_BUCKET, kinds.R2_MANAGED_DOMAIN, kinds.R2_CUSTOM_DOMAIN)


def _target(resource: ResourceInput) -> str:
    props = resource.props
    if resource.type in kinds.BUCKETS:
        name = kinds.bucket_name(resource.type, props)
        return f"bucket {name}" if isinstance(name, str) else f"bucket {resource.name}"
    name = props.get("bucket") or props.get("bucketName")
    return f"{resource.type.rsplit(':', 1)[-1]} {resource.name} (bucket {quoted(name)})"


def _public_statements(policy: Any) -> list[str]:
    if not isinstance(policy, str):
        return []
    try:
        document = json.loads(policy)
    except ValueError:
        return []
    statements = document.get("Statement", []) if isinstance(document, Mapping) else []
    statements = [statements] if isinstance(statements, Mapping) else statements
    found = []
    for index, statement in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, Mapping) else None
        if principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws):
            found.append(str(statement.get("Sid") or f"#{index}"))
    return found


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for every way this resource opens a bucket to the public."""
    props, target, t = resource.props, _target(resource), resource.type
    if t == kinds.B2_BUCKET:
        bucket_type = props.get("bucket_type")
        if bucket_type is not None and require(bucket_type, "bucket_type") != "allPrivate":
            return [f"{target} has bucket_type {quoted(bucket_type)}; backup buckets must be allPrivate: remove "
                    "bucket_type (the provider creates allPrivate buckets) or set it to 'allPrivate'."]
        return []
    if t == kinds.R2_BUCKET:
        raise NotApplicable("R2 buckets are private unless a managed (r2.dev) or custom domain is attached; "
                            "those resources are checked instead")
    if t == kinds.AWS_PUBLIC_ACCESS_BLOCK:
        open_flags = [f for f in _BLOCKS if truthy(require(props.get(f, False), f)) is not True]
        if open_flags:
            return [f"{target} leaves {', '.join(f + '=false' for f in open_flags)}; all four public-access blocks "
                    "must be true: set block_public_acls, block_public_policy, ignore_public_acls and "
                    "restrict_public_buckets to True."]
        return []
    if t in (kinds.R2_MANAGED_DOMAIN, kinds.R2_CUSTOM_DOMAIN):
        enabled = truthy(require(props.get("enabled", True), "enabled"))
        if enabled is not False:
            what = "its public r2.dev URL" if t == kinds.R2_MANAGED_DOMAIN else f"domain {quoted(props.get('domain'))}"
            return [f"{target} serves the bucket publicly through {what}; backup buckets are reached only with "
                    "scoped S3 credentials: remove this resource (or set enabled=False)."]
        return []
    messages = []
    acl = props.get("acl")
    if acl is not None and require(acl, "acl") in PUBLIC_ACLS:
        messages.append(f"{target} sets acl {quoted(acl)}; backup buckets must be private: use 'private' or drop acl.")
    if truthy(props.get("public")) is True:
        messages.append(f"{target} sets public=true; backup buckets must be private: remove it.")
    grants = props.get("accessControlPolicy")
    grant_list = grants.get("grants") if isinstance(grants, Mapping) else None
    for grant in grant_list if isinstance(grant_list, list) else []:
        uri = grant.get("grantee", {}).get("uri") if isinstance(grant, Mapping) else None
        if uri in _GROUPS:
            messages.append(f"{target} grants {grant.get('permission')} to {uri.rsplit('/', 1)[-1]}; remove that "
                            "grant: backup buckets are private.")
    policy = props.get("policy")
    if policy is not None:
        sids = _public_statements(require(policy, "policy"))
        if sids:
            messages.append(f"{target} has a bucket policy allowing Principal '*' without a condition (statement "
                            f"{', '.join(sids)}); remove those statements: backup buckets are private.")
    return messages


POLICY = resource_policy(META, TYPES, check)
