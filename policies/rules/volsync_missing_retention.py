"""Restic and kopia ReplicationSources declare what they keep.

Without `retain` VolSync's restic mover runs `restic forget --keep-last 1`, so a repository holds one snapshot and a
bad backup overwrites the only good one; kopia falls back to its own global defaults, which the plan does not own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import is_unknown, number, require
from .support.text import k8s_title, protects

META = Meta(
    name="volsync-missing-retention",
    description="VolSync restic and kopia ReplicationSources must set a retention policy.",
    severity=Severity.MEDIUM,
    remediation="Set spec.restic.retain (hourly/daily/weekly/monthly/yearly/within/last) or spec.kopia.retain "
                "(hourly/daily/weekly/monthly/yearly/latest) from the tier's retention.",
)
LEVEL_KEYS = {
    "restic": ("hourly", "daily", "weekly", "monthly", "yearly", "within", "last"),
    "kopia": ("hourly", "daily", "weekly", "monthly", "yearly", "latest"),
}


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when a restic/kopia source keeps no explicit history."""
    found = kinds.mover(resource.props)
    if found is None or found[0] not in LEVEL_KEYS:
        raise NotApplicable("only restic and kopia movers keep snapshot history")
    name, spec = found
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    retain = require(spec.get("retain"), "spec", name, "retain")
    if not isinstance(retain, Mapping) or not retain:
        default = "restic forget --keep-last 1 (one snapshot)" if name == "restic" else "kopia's global defaults"
        return [f"{target} sets no spec.{name}.retain, so the repository is pruned by {default}; set the tier's "
                f"levels, e.g. retain: {{daily: 14, weekly: 4, monthly: 3}}."]
    levels = [k for k in LEVEL_KEYS[name] if k in retain and (is_unknown(retain[k]) or number(retain[k])
                                                             or (k == "within" and retain[k]))]
    if not levels:
        return [f"{target} sets spec.{name}.retain {dict(retain)} with no level above zero; keep at least one level, "
                "e.g. daily: 14."]
    return []


POLICY = resource_policy(META, (kinds.REPLICATION_SOURCE,), check)
