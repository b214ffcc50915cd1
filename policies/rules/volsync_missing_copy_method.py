"""VolSync objects always say how they copy the volume (apis.md §1.1).

VolSync has no default `copyMethod`: an object without one fails at run time with "unsupported copyMethod", so the
first sign of the mistake would be a backup that never ran.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import require
from .support.text import k8s_title, protects, quoted

META = Meta(
    name="volsync-missing-copy-method",
    description="VolSync ReplicationSources and ReplicationDestinations must set copyMethod.",
    severity=Severity.MEDIUM,
    remediation="Set spec.<mover>.copyMethod: Snapshot (or Clone) for backups, Direct for restores into an existing "
                "claim.",
)
COPY_METHODS = ("Direct", "Clone", "Snapshot")
TYPES = (kinds.REPLICATION_SOURCE, kinds.REPLICATION_DESTINATION)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message when the mover section lacks a valid copyMethod."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    found = kinds.mover(resource.props)
    if found is None:
        return [f"{target} has no mover section (spec.restic, spec.kopia, ...); add one with copyMethod "
                "Snapshot (or Direct for restores)."]
    name, spec = found
    if name in ("syncthing", "external"):
        raise NotApplicable(f"the {name} mover has no copyMethod")
    method = require(spec.get("copyMethod"), "spec", name, "copyMethod")
    if method is None:
        return [f"{target} sets no spec.{name}.copyMethod, and VolSync has no default (the job fails with "
                "'unsupported copyMethod'); set it to Snapshot (or Clone), or Direct for restores."]
    if method not in COPY_METHODS:
        hint = " ('None' is a deprecated alias of Direct)" if method == "None" else ""
        return [f"{target} sets copyMethod {quoted(method)}{hint}; use one of {', '.join(COPY_METHODS)}."]
    return []


POLICY = resource_policy(META, TYPES, check)
