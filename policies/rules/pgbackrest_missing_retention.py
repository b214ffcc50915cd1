"""Every pgBackRest repository declares how many full backups it keeps.

Without `repo-retention-full` pgBackRest warns and keeps every backup forever (apis.md §2.5): the bucket grows
without bound and object-lock/lifecycle reasoning (which assumes expiry) no longer holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, number, require
from .support.text import k8s_title, protects, quoted

META = Meta(
    name="pgbackrest-missing-retention",
    description="Every pgBackRest repository must set a full-backup retention.",
    severity=Severity.MEDIUM,
    remediation="Set retentionPolicy: {full: <count>, fullType: count} on each repository, covering the tier's "
                "retention window with weekly fulls.",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for repositories without a positive full retention."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    repositories = require(get(resource.props, "spec", "stanzaConfiguration", "s3Repositories", default=[]),
                           "spec", "stanzaConfiguration", "s3Repositories")
    messages = []
    for index, repo in enumerate(repositories if isinstance(repositories, list) else []):
        if not isinstance(repo, Mapping):
            continue
        full = number(require(get(repo, "retentionPolicy", "full"), "s3Repositories", index, "retentionPolicy",
                              "full"))
        if full is None or full < 1:
            messages.append(f"{target} s3Repositories[{index}] (bucket {quoted(repo.get('bucket'))}) has no "
                            "retentionPolicy.full, so pgBackRest keeps every backup forever; set retentionPolicy: "
                            "{full: N, fullType: count} covering the tier's retention window.")
    return messages


POLICY = resource_policy(META, (kinds.STANZA,), check)
