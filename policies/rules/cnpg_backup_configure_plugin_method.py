"""ScheduledBackups go through the pgBackRest CNPG-I plugin (`method: plugin`).

CloudNativePG's default method is barmanObjectStore, which this estate does not configure: a ScheduledBackup that
forgets `method: plugin` produces failed backups instead of pgBackRest ones.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, require
from .support.text import k8s_title, protects, quoted

META = Meta(
    name="cnpg-backup-configure-plugin-method",
    description="CloudNativePG ScheduledBackups must use method plugin with a named plugin.",
    severity=Severity.MEDIUM,
    remediation="Set spec.method: plugin and spec.pluginConfiguration.name: pgbackrest.dalibo.com (with "
                "parameters backupType and selectedRepository).",
)


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages when the backup method or the plugin name is missing."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    method = require(get(resource.props, "spec", "method"), "spec", "method")
    messages = []
    if method != "plugin":
        found = f"method {quoted(method)}"
        if method is None:
            found = "no method (CloudNativePG defaults to barmanObjectStore)"
        messages.append(f"{target} has {found}; backups here go through the pgBackRest plugin: set method: plugin.")
    plugin = require(get(resource.props, "spec", "pluginConfiguration", "name"), "spec", "pluginConfiguration", "name")
    if not isinstance(plugin, str) or not plugin:
        messages.append(f"{target} names no plugin; set pluginConfiguration.name: pgbackrest.dalibo.com.")
    return messages


POLICY = resource_policy(META, (kinds.SCHEDULED_BACKUP,), check)
