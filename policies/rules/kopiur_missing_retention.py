"""Every Kopiur SnapshotPolicy pins its retention: `keepLatest` and the GFS levels the tier asks for.

Without `spec.retention` kopia applies its global defaults (10 latest, 48 hourly, 7 daily, 4 weekly, 24 monthly, 3
annual): nothing the tier chose, and the cross-layer rules cannot reason about a lock below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, is_unknown, number, require
from .support.text import k8s_title, protects

META = Meta(
    name="kopiur-missing-retention",
    description="Kopiur snapshot policies must pin their retention instead of inheriting kopia's defaults.",
    severity=Severity.HIGH,
    remediation="Set spec.retention with keepLatest and the tier's levels (keepHourly, keepDaily, keepWeekly, "
                "keepMonthly, keepAnnual), every level written out (0 where unused).",
)
LEVELS = ("keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepAnnual")


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when retention is absent, keeps nothing, or leaves levels to kopia's defaults."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    retention = require(get(resource.props, "spec", "retention"), "spec", "retention")
    if not isinstance(retention, Mapping):
        return [f"{target} has no spec.retention, so kopia's defaults decide what is kept; pin keepLatest and every "
                "GFS level to the tier's retention."]
    if any(is_unknown(v) for v in retention.values()):
        return []
    if not any(number(retention.get(level)) for level in LEVELS):
        return [f"{target} keeps no hourly, daily, weekly, monthly or annual points; set the tier's levels."]
    unset = [key for key in ("keepLatest", *LEVELS) if key not in retention]
    if unset:
        return [f"{target} leaves {', '.join(unset)} to kopia's defaults, which keep more than the tier chose; write "
                "them out (0 where unused)."]
    return []


POLICY = resource_policy(META, (kinds.KOPIUR_POLICY,), check)
