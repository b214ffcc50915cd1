"""Reading credential scopes: AWS IAM policy documents and Cloudflare token resource maps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_S3_ARN = "arn:aws:s3:::"


@dataclass(frozen=True)
class Statement:
    """One Allow statement, normalized."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool
    not_resource: bool


def allow_statements(document: Any) -> list[Statement] | None:
    """The Allow statements of an IAM policy (JSON string or mapping); None when it cannot be read."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, Mapping):
        return None
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else statements
    result = []
    for index, statement in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", statement.get("NotAction", []))
        resources = statement.get("Resource", statement.get("NotResource", []))
        result.append(Statement(
            sid=str(statement.get("Sid") or f"#{index}"),
            actions=tuple([actions] if isinstance(actions, str) else [str(a) for a in actions or []]),
            resources=tuple([resources] if isinstance(resources, str) else [str(r) for r in resources or []]),
            not_action="NotAction" in statement,
            not_resource="NotResource" in statement,
        ))
    return result


def s3_bucket_of(arn: str) -> str | None:
    """`arn:aws:s3:::bucket/prefix/*` -> `bucket`; None for anything that is not one S3 bucket (or wildcards)."""
    if not arn.startswith(_S3_ARN):
        return None
    bucket = arn[len(_S3_ARN):].split("/", 1)[0]
    return None if not bucket or "*" in bucket or "?" in bucket else bucket


def token_resources(value: Any) -> dict[str, Any] | None:
    """A Cloudflare token policy's `resources` (a JSON string since pulumi-cloudflare v6.12, a map before)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return dict(value) if isinstance(value, Mapping) else None
