"""A backup writer can read and write its objects, never manage keys, buckets, locks or lifecycles.

With management rights a compromised mover (or ransomware holding its key) could delete the bucket, shorten the lock,
rewrite the lifecycle or mint new keys: exactly what the offsite copy exists to survive.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.iam import allow_statements
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import require

META = Meta(
    name="credential-disallow-management-capabilities",
    description="Backup credentials must not hold key, bucket, lock or lifecycle management rights.",
    severity=Severity.HIGH,
    remediation="Give writers object verbs only: B2 listBuckets, listAllBucketNames, listFiles, readFiles, "
                "writeFiles, deleteFiles (+ readBucketEncryption, readFileRetentions, writeFileRetentions); S3 "
                "ListBucket, GetBucketLocation, Get/Put/DeleteObject, GetObjectVersion, PutObjectTagging.",
    config_keys=("b2ManagementCapabilities", "s3ManagementActions"),
)
TYPES = (kinds.B2_KEY, kinds.AWS_USER_POLICY, kinds.CF_API_TOKEN, kinds.CF_ACCOUNT_TOKEN)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for management capabilities or actions a writer's credential holds."""
    props = resource.props
    if resource.type in (kinds.CF_API_TOKEN, kinds.CF_ACCOUNT_TOKEN):
        raise NotApplicable("Cloudflare permission groups are resolved by id at deploy time; "
                            "credential-enforce-single-bucket-scope keeps R2 tokens on one bucket")
    if resource.type == kinds.B2_KEY:
        capabilities = require(props.get("capabilities"), "capabilities")
        held = sorted(set(capabilities or []) & set(settings["b2ManagementCapabilities"]))
        name = props.get("key_name") if isinstance(props.get("key_name"), str) else resource.name
        if held:
            return [f"B2 application key {name!r} holds {', '.join(held)}; a writer's key must not manage keys, "
                    "buckets or retention: remove them from capabilities."]
        return []
    statements = allow_statements(require(props.get("policy"), "policy"))
    target = f"IAM policy {resource.name}"
    if statements is None:
        return [f"{target} is not a readable JSON policy document; write it with json.dumps({{...}})."]
    patterns = [p.lower() for p in settings["s3ManagementActions"]]
    messages = []
    for statement in statements:
        if statement.not_action:
            messages.append(f"{target} statement {statement.sid} uses NotAction, which allows every other action "
                            "(bucket and key management included); list the object actions under Action instead.")
            continue
        wild = [a for a in statement.actions if "*" in a or "?" in a]
        managing = [a for a in statement.actions
                    if a not in wild and any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns)]
        if wild:
            messages.append(f"{target} statement {statement.sid} allows wildcard actions {', '.join(wild)}, which "
                            "include bucket management; list the object actions the writer needs instead.")
        if managing:
            messages.append(f"{target} statement {statement.sid} allows {', '.join(managing)}; a writer must not "
                            "manage buckets, locks, lifecycles or versions: remove them.")
    return messages


POLICY = resource_policy(META, TYPES, check)
