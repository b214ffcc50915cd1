"""Every credential a stack needs, checked before the first resource is registered.

The components read credentials lazily (as secret Outputs), so a missing one would otherwise surface only after
the buckets before it were registered: `up` would half-apply. This check runs first and lists them all at once.
"""

from __future__ import annotations

import os

import pulumi

from components.estate import ADMIN_FIELDS
from components.stack_config import PROJECT, MissingCredentialsError, env_prefix
from inventory.models import Inventory
from plan.model import Plan

NAS_CREDENTIAL = ("truenas", ("api_key",))
"""The NAS API key: `credentials.truenas.api_key` or HLB_TRUENAS_API_KEY."""


def required_credentials(inventory: Inventory, plan: Plan) -> list[tuple[str, tuple[str, ...]]]:
    """(credential entry, fields) the program will read for this plan, in a stable order."""
    needed: dict[str, tuple[str, ...]] = {}
    for bucket in plan.buckets:
        fields = ADMIN_FIELDS.get(inventory.destination(bucket.destination).kind)
        if fields:
            needed[bucket.destination] = fields
    if inventory.truenas is not None and any(d.source.kind == "truenas" for d in inventory.datasets):
        needed[NAS_CREDENTIAL[0]] = NAS_CREDENTIAL[1]
    return sorted(needed.items())


def missing_credentials(inventory: Inventory, plan: Plan,
                        config: pulumi.Config | None = None) -> list[tuple[str, list[str]]]:
    """(entry, missing fields) for every required credential found neither in stack config nor the environment.

    Only presence is checked; values are never read into messages.
    """
    config = config or pulumi.Config(PROJECT)
    stored = config.get_object("credentials") or {}
    missing = []
    for entry, fields in required_credentials(inventory, plan):
        values = stored.get(entry) if isinstance(stored, dict) else None
        values = values if isinstance(values, dict) else {}
        absent = [f for f in fields if not values.get(f) and not os.environ.get(env_prefix(entry) + f.upper())]
        if absent:
            missing.append((entry, absent))
    return missing


def require_credentials(inventory: Inventory, plan: Plan, config: pulumi.Config | None = None) -> None:
    """Stop before anything is registered when a credential is missing, naming each and how to set it."""
    missing = missing_credentials(inventory, plan, config)
    if not missing:
        return
    lines = []
    for entry, fields in missing:
        commands = "; ".join(f"pulumi config set --secret --path 'credentials.{entry}.{f}' ..." for f in fields)
        names = ", ".join(env_prefix(entry) + f.upper() for f in fields)
        lines.append(f"  - {entry!r} has no {fields}: run {commands} (or export {names})")
    raise MissingCredentialsError(
        f"{len(missing)} credential(s) missing; nothing was changed:\n" + "\n".join(lines))
