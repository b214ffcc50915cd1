"""Every PVE backup job says the tier of the guests it selects; an untiered selector (`all` above all) is refused.

A job with `all: true` backs up every guest, including ones nobody has classified: without a tier, nothing says how
often, how long and where their copies must go, and the pack's other rules cannot judge it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import fmt, number, require, truthy
from .support.text import quoted

META = Meta(
    name="pve-backup-job-missing-tier",
    description="Every PVE backup job must carry the tier (1, 2 or 3) of the guests it selects.",
    severity=Severity.HIGH,
    remediation="Give the guest group `tier: 1`, `2` or `3` in proxmox.guests, or split an `all` selector into one "
                "group per tier (all: true with exclude for the rest).",
    config_keys=("tiers",),
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the job's tier is missing or unknown to the pack."""
    props = resource.props
    tier = require(props.get("tier"), "tier")
    known = sorted(settings["tiers"])
    value = number(tier)
    if value is not None and value.is_integer() and str(int(value)) in known:
        return []
    if truthy(props.get("all")):
        what = "all guests" + (f" except {props['exclude']}" if props.get("exclude") else "")
    elif props.get("pool"):
        what = f"pool {quoted(props['pool'])}"
    else:
        what = f"guests {props.get('vmid')}"
    found = "no tier" if tier is None else f"tier {fmt(value) if value is not None else quoted(tier)}"
    return [f"PVE backup job {quoted(props.get('job_id') or resource.name)} selects {what} with {found}; a guest "
            f"selector needs one of tiers {', '.join(known)}: set it on the guest group."]


POLICY = resource_policy(META, (kinds.PVE_BACKUP_JOB,), check)
