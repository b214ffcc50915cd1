"""The token a PBS sync signs in with on a remote PBS holds a backup or reader role on named datastores only.

A push sync needs DatastoreBackup on its target datastore (a pull, DatastoreReader on its source); a token with
DatastoreAdmin, DatastorePowerUser or Admin, or with a role on `/`, could prune or delete the offsite copy it fills:
whoever steals it from `proxmox.pbs` (where the remote entry keeps it) could destroy both copies.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.text import quoted

SYNC_ROLES = ("DatastoreBackup", "DatastoreReader")

META = Meta(
    name="pbs-sync-token-enforce-least-privilege",
    description="PBS sync tokens must hold only a backup or reader role, and only on named datastores.",
    severity=Severity.HIGH,
    remediation="Give the sync token role DatastoreBackup (push) or DatastoreReader (pull) on the synced datastores "
                "only.",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """A message per excess: a broader role, or no datastore named (a role on everything)."""
    props = resource.props
    token = f"{props.get('user')}!{props.get('token_name')}"
    messages = []
    role = props.get("role")
    if role not in SYNC_ROLES:
        messages.append(f"PBS sync token {quoted(token)} holds role {quoted(role)}, which can prune or delete what it "
                        f"syncs; use {' or '.join(SYNC_ROLES)}.")
    stores = props.get("datastores")
    if not isinstance(stores, list) or not stores or any(not isinstance(s, str) or not s or "/" in s for s in stores):
        messages.append(f"PBS sync token {quoted(token)} names datastores {stores!r}; list the synced datastores by "
                        "name (a path or an empty list would grant the role more widely).")
    return messages


POLICY = resource_policy(META, (kinds.PBS_SYNC_TOKEN,), check)
