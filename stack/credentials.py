"""Every credential a stack needs, checked before the first resource is registered.

The components read credentials lazily (as secret Outputs), so a missing one would otherwise surface only after
the buckets before it were registered: `up` would half-apply. This check runs first and lists them all at once.
"""

from __future__ import annotations

import os

import pulumi

from inventory.inputs import split_ping_base
from inventory.models import Inventory
from plan.capabilities import identities_of
from plan.model import Plan
from stack.config import MissingCredentialsError
from stack.naming import (
    ADMIN_FIELDS,
    CONNECT_TOKEN_CREDENTIAL,
    IDENTITY_FIELDS,
    NAS_CREDENTIAL,
    PING_KEY_CREDENTIAL,
    PROJECT,
    ROLES,
    env_prefix,
    identity_env,
)


def required_credentials(inventory: Inventory, plan: Plan) -> list[tuple[str, tuple[str, ...]]]:
    """(credential entry, fields) the program will read for this plan, in a stable order."""
    needed: dict[str, tuple[str, ...]] = {}
    for bucket in plan.buckets:
        fields = ADMIN_FIELDS.get(inventory.destination(bucket.destination).kind)
        if fields:
            # Garage's admin API takes a bearer token of its own beside the S3 key that manages the bucket.
            needed[bucket.destination] = fields + (("admin_token",) if bucket.admin_api == "garage" else ())
    if inventory.truenas is not None and any(d.source.kind in ("truenas", "nas-config") for d in inventory.datasets):
        needed[NAS_CREDENTIAL[0]] = NAS_CREDENTIAL[1]
    checks = inventory.monitoring.healthchecks
    if checks is not None and split_ping_base(checks.ping_base)[1] is None:
        needed[PING_KEY_CREDENTIAL[0]] = PING_KEY_CREDENTIAL[1]
    if inventory.secret_store is not None and inventory.secret_store.kind == "onepassword":
        needed[CONNECT_TOKEN_CREDENTIAL[0]] = CONNECT_TOKEN_CREDENTIAL[1]
    if inventory.proxmox is not None:
        needed |= dict(inventory.proxmox.credentials())
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


def missing_identities(plan: Plan, config: pulumi.Config | None = None) -> list[tuple[str, list[str], list[str]]]:
    """(config path, missing fields, their environment names) for every tool key the user must supply.

    Destinations the program cannot create keys on take one key per writer and role from the user (README, 'Keys
    per writer'); like the admin keys, their presence is checked before anything is registered.
    """
    config = config or pulumi.Config(PROJECT)
    stored = config.get_object("credentials") or {}
    stored = stored if isinstance(stored, dict) else {}
    missing = []
    for bucket in plan.buckets:
        if identities_of(bucket.kind, bucket.flavour, bucket.admin_api) != "supplied":
            continue
        for writer in bucket.writers:
            for role in ROLES:
                entry = ((stored.get(bucket.destination) or {}).get(f"{role}s") or {}).get(writer.key) or {}
                entry = entry if isinstance(entry, dict) else {}
                absent = [f for f in IDENTITY_FIELDS
                          if not entry.get(f) and not os.environ.get(identity_env(bucket.destination, role,
                                                                                  writer.key, f))]
                if absent:
                    missing.append((f"credentials.{bucket.destination}.{role}s.{writer.key}", absent,
                                    [identity_env(bucket.destination, role, writer.key, f) for f in absent]))
    return missing


def require_credentials(inventory: Inventory, plan: Plan, config: pulumi.Config | None = None) -> None:
    """Stop before anything is registered when a credential is missing, naming each and how to set it."""
    missing = missing_credentials(inventory, plan, config)
    identities = missing_identities(plan, config)
    conflict = _ping_key_conflict(inventory, config)
    if not missing and not identities and not conflict:
        return
    lines = [conflict] if conflict else []
    for entry, fields in missing:
        if (entry, tuple(fields)) == PING_KEY_CREDENTIAL:
            base = inventory.monitoring.healthchecks.ping_base if inventory.monitoring.healthchecks else ""
            lines.append(f"  - monitoring.healthchecks.ping_base {base!r} is a ping endpoint without the project ping "
                         "key, so every slug ping would answer 404: copy the key from the project's Settings page and "
                         "run pulumi config set --secret --path 'credentials.healthchecks.ping_key' <ping-key> (or "
                         "export HLB_HEALTHCHECKS_PING_KEY)")
            continue
        commands = "; ".join(f"pulumi config set --secret --path 'credentials.{entry}.{f}' ..." for f in fields)
        names = ", ".join(env_prefix(entry) + f.upper() for f in fields)
        lines.append(f"  - {entry!r} has no {fields}: run {commands} (or export {names})")
    for path, fields, names in identities:
        commands = "; ".join(f"pulumi config set --secret --path '{path}.{f}' ..." for f in fields)
        lines.append(f"  - {path} (a key the program cannot create; README, 'Keys per writer') has no {fields}: "
                     f"run {commands} (or export {', '.join(names)})")
    raise MissingCredentialsError(
        f"{len(lines)} credential(s) {'missing' if not conflict else 'missing or in conflict'}; nothing was "
        "changed:\n" + "\n".join(lines))


def _ping_key_conflict(inventory: Inventory, config: pulumi.Config | None) -> str | None:
    """Two ping keys (one inside ping_base, one as a credential): which one pings is a guess, so refuse."""
    checks = inventory.monitoring.healthchecks
    if checks is None:
        return None
    endpoint, key = split_ping_base(checks.ping_base)
    if key is None:
        return None
    stored = (config or pulumi.Config(PROJECT)).get_object("credentials") or {}
    entry = stored.get(PING_KEY_CREDENTIAL[0]) if isinstance(stored, dict) else None
    if not (isinstance(entry, dict) and entry.get("ping_key")) and not os.environ.get("HLB_HEALTHCHECKS_PING_KEY"):
        return None
    return (f"  - monitoring.healthchecks.ping_base carries a ping key and credentials.healthchecks.ping_key (or "
            f"HLB_HEALTHCHECKS_PING_KEY) sets one too: keep the credential and write ping_base as `{endpoint}`")
