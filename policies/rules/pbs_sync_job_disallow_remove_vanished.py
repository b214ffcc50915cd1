"""A PBS sync job that makes an offsite copy never removes what vanished at the source.

With `remove-vanished`, a snapshot deleted (or pruned, or destroyed by an attacker) on the local datastore is
deleted offsite at the next sync: the offsite copy stops being independent. The offsite datastore keeps its own
retention with a prune job.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import truthy
from .support.text import quoted

META = Meta(
    name="pbs-sync-job-disallow-remove-vanished",
    description="PBS sync jobs filling an offsite copy must not remove snapshots that vanished at the source.",
    severity=Severity.HIGH,
    remediation="Set remove_vanished: false on the sync job and keep the offsite datastore's retention with its own "
                "prune job.",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the job propagates deletions."""
    props = resource.props
    if truthy(props.get("remove_vanished")):
        return [f"PBS sync job {quoted(props.get('job_id') or resource.name)} into {quoted(props.get('store'))} "
                "removes snapshots that vanished from the source, so a deletion there (a prune, a mistake, an "
                "attacker) reaches the offsite copy at the next sync; set remove_vanished: false."]
    return []


POLICY = resource_policy(META, (kinds.PBS_SYNC_JOB,), check)
