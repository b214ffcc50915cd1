"""TrueNAS cloud sync tasks that push offsite encrypt client-side (rclone crypt), with a password.

Cloud sync copies files as they are: without `encryption` the provider (and anyone holding the bucket key) reads
every photo and document. Design §8: "encryption on for offsite". Tasks marked `offsite: false` (a bucket on the
LAN) and PULL tasks (restores) are exempt.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, NotApplicable, ResourceInput, resource_policy
from .support.props import get, is_unknown, require, truthy
from .support.text import quoted

META = Meta(
    name="truenas-enable-cloudsync-encryption",
    description="TrueNAS cloud sync tasks pushing offsite must use client-side encryption with a password.",
    severity=Severity.HIGH,
    remediation="Set encryption=True, filename_encryption=True and a secret encryption_password (and salt) on "
                "the task; keep the password in escrow, without it the copy cannot be restored.",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages when an offsite push task is unencrypted or has no password."""
    props = resource.props
    direction = require(props.get("direction"), "direction")
    if isinstance(direction, str) and direction.upper() == "PULL":
        raise NotApplicable("PULL tasks restore into the NAS; only pushes leave it")
    if truthy(require(props.get("offsite"), "offsite")) is False:
        raise NotApplicable("the task is declared offsite: false (its bucket is on the local network)")
    name = props.get("description") or props.get("path") or resource.name
    bucket = get(props, "attributes", "bucket")
    target = f"cloud sync task {quoted(name)} (bucket {quoted(bucket)})"
    if truthy(require(props.get("encryption"), "encryption")) is not True:
        return [f"{target} pushes offsite with encryption {quoted(props.get('encryption', False))}; offsite copies "
                "are encrypted client-side: set encryption=True with a secret encryption_password (and "
                "filename_encryption=True)."]
    password = props.get("encryption_password")
    if not is_unknown(password) and not (isinstance(password, str) and password):
        return [f"{target} enables encryption without an encryption_password; pass one as a Pulumi secret and "
                "keep it in escrow."]
    return []


POLICY = resource_policy(META, (kinds.CLOUD_SYNC_TASK,), check)
