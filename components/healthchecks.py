"""The Healthchecks ping base as a credential: a public endpoint plus the project ping key, a Pulumi secret.

The key is enough to fake success pings, so it never reaches rendered manifests, plaintext outputs or logs: jobs
read their URL from a Secret (manifests/healthchecks.py), NAS tasks get it as a secret input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi

from inventory.inputs import ping_key_problem, split_ping_base
from inventory.models import Inventory
from manifests.healthchecks import PING_KEY, ping_secrets
from plan.units import ProtectionUnit
from stack.config import MissingCredentialsError, destination_credentials
from stack.kubernetes import KubernetesTarget
from stack.naming import PING_KEY_CREDENTIAL, PROJECT

KEY_PATH = "credentials.healthchecks.ping_key"


@dataclass(frozen=True)
class PingBase:
    """Where checks are pinged: `<endpoint><key>/<slug>`."""

    endpoint: str
    """The non-secret part, e.g. `https://hc-ping.com/` or `https://hc.example.com/ping/`."""
    key: pulumi.Output[str]
    """Secret: the project ping key."""

    def base_url(self) -> pulumi.Output[str]:
        """Secret: `<endpoint><key>/`, escrowed in the `secrets` output for runbooks and drills."""
        return pulumi.Output.secret(pulumi.Output.concat(self.endpoint, self.key, "/"))

    def url(self, slug: str) -> pulumi.Output[str]:
        """Secret: the ping URL of the check `slug`."""
        return pulumi.Output.secret(pulumi.Output.concat(self.endpoint, self.key, "/", slug))


def ping_base(inventory: Inventory, config: pulumi.Config | None = None) -> PingBase | None:
    """The inventory's ping base with its key as a secret, or None without Healthchecks.

    A key inside `monitoring.healthchecks.ping_base` (the older form) still works, wrapped as a secret at once;
    a warning says how to move it out of the stack file.
    """
    checks = inventory.monitoring.healthchecks
    if checks is None:
        return None
    endpoint, key = split_ping_base(checks.ping_base)
    if key is not None:
        pulumi.log.warn(
            f"monitoring.healthchecks.ping_base carries the project ping key, which then sits in plaintext in the "
            f"stack's inventory (a git-bound file); write `{endpoint}` there and run `pulumi config set --secret "
            f"--path '{KEY_PATH}' <ping-key>` (or export HLB_HEALTHCHECKS_PING_KEY)")
        return PingBase(endpoint, pulumi.Output.secret(key))
    config = config or pulumi.Config(PROJECT)

    def checked(values: dict[str, str]) -> str:
        problem = ping_key_problem(values["ping_key"])
        if problem:
            raise MissingCredentialsError(f"{KEY_PATH} {problem}, then run `pulumi config set --secret --path "
                                          f"'{KEY_PATH}' <ping-key>`")
        return values["ping_key"]

    return PingBase(endpoint, pulumi.Output.secret(
        destination_credentials(*PING_KEY_CREDENTIAL, config).apply(checked)))


def declare_ping_secrets(name: str, ds: ProtectionUnit, objects: Iterable[dict[str, Any]], ping: PingBase | None,
                         target: KubernetesTarget, parent: pulumi.Resource) -> None:
    """The Secrets holding the ping URLs the jobs among `objects` read (none without Healthchecks)."""
    if ping is None:
        return
    for spec in ping_secrets(ds, objects, ping.endpoint):
        target.declare_secret(f"{name}-healthchecks-{spec.namespace}", spec, {PING_KEY.name: ping.key}, parent)
