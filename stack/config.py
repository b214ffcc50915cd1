"""Read the inventory and destination credentials from stack config, failing cleanly on bad input."""

from __future__ import annotations

import os
from typing import Any

import pulumi
import yaml

from inventory import Inventory, InventoryError, load_inventory
from inventory.load import SECTIONS
from stack.naming import IDENTITY_FIELDS, PROJECT, env_prefix, identity_env


class InventoryConfigError(pulumi.RunError):
    """The stack's inventory is invalid: one message, no traceback, nothing applied."""


class MissingCredentialsError(pulumi.RunError):
    """A destination has no credentials configured."""


def load_stack_inventory(config: pulumi.Config | None = None) -> Inventory:
    """Validate the inventory (stack config sections, or the YAML file `inventory_file` names); every problem is
    reported at once."""
    config = config or pulumi.Config(PROJECT)
    raw: dict[str, Any] = {}
    for section in SECTIONS:
        value = config.get_object(section) if section != "budget_usd_per_month" else config.get_float(section)
        if value is not None:
            raw[section] = value
    inventory_file = config.get("inventory_file")
    if inventory_file:
        raw = _from_file(inventory_file, raw)
    try:
        return load_inventory(raw)
    except InventoryError as exc:
        stack = pulumi.get_stack()
        fix = (f"Edit {inventory_file} and run again." if inventory_file
               else f"Edit Pulumi.{stack}.yaml (keys under `{PROJECT}:`) and run again.")
        raise InventoryConfigError(f"{exc}\n{fix}") from None


def _from_file(path: str, sections: dict[str, Any]) -> dict[str, Any]:
    """The inventory from a YAML file: stack config reaches the program through one environment variable,
    which Linux caps at 128 KiB, so estates of a few hundred datasets must live in a file."""
    if sections:
        raise InventoryConfigError(f"both inventory_file and the config sections {sorted(sections)} are set; keep "
                                   "the inventory in one place (remove one of them)")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise InventoryConfigError(f"inventory_file {path!r} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise InventoryConfigError(f"inventory_file {path!r} must hold a mapping of inventory sections")
    return data


def destination_credentials(
    destination: str, fields: tuple[str, ...], config: pulumi.Config | None = None
) -> pulumi.Output:
    """Credentials of one destination as a secret Output: stack config secret first, then environment.

    Stack config: `pulumi config set --secret --path 'credentials.<destination>.<field>' VALUE`.
    Environment: `HLB_<DESTINATION>_<FIELD>` (upper case), for pipelines that inject secrets.
    """
    config = config or pulumi.Config(PROJECT)
    from_config = config.get_secret_object("credentials")
    prefix = env_prefix(destination)
    from_env = {f: os.environ.get(prefix + f.upper()) for f in fields}

    def pick(stored: dict | None) -> dict[str, str]:
        entry = (stored or {}).get(destination) or {}
        values = {f: entry.get(f) or from_env[f] for f in fields}
        missing = [f for f, v in values.items() if not v]
        if missing:
            hints = ", ".join(f"`pulumi config set --secret --path 'credentials.{destination}.{f}' ...`"
                              for f in missing)
            names = ", ".join(prefix + f.upper() for f in missing)
            raise MissingCredentialsError(
                f"{destination!r} has no credentials {missing}: run {hints}, or export {names}")
        return values

    if from_config is None:
        return pulumi.Output.secret(pick(None))
    return pulumi.Output.secret(from_config.apply(pick))


class CredentialReuseError(pulumi.RunError):
    """A tool would receive the destination's admin key: one message naming the credential and the fix."""


def supplied_identity(destination: str, role: str, writer_key: str, admin: pulumi.Output | None,
                      config: pulumi.Config | None = None, *, bucket: str = "", prefix: str = "") -> pulumi.Output:
    """A tool key the user created on a server the program cannot create keys on, as a secret Output.

    Stack config: `credentials.<destination>.<role>s.<writer-key>.{access_key_id,secret_access_key}`; environment:
    `identity_env(...)`. Refused when missing or when it is the destination's admin key (compared inside the
    secret, and never printed).
    """
    config = config or pulumi.Config(PROJECT)
    from_config = config.get_secret_object("credentials")
    path = f"credentials.{destination}.{role}s.{writer_key}"
    from_env = {f: os.environ.get(identity_env(destination, role, writer_key, f)) for f in IDENTITY_FIELDS}

    def pick(stored: dict | None, admin_key: dict | None) -> dict[str, str]:
        entry = (((stored or {}).get(destination) or {}).get(f"{role}s") or {}).get(writer_key) or {}
        values = {f: entry.get(f) or from_env[f] for f in IDENTITY_FIELDS}
        missing = [f for f, v in values.items() if not v]
        if missing:
            hints = ", ".join(f"`pulumi config set --secret --path '{path}.{f}' ...`" for f in missing)
            names = ", ".join(identity_env(destination, role, writer_key, f) for f in missing)
            what = "read-only key for check and drill jobs" if role == "reader" else "key for the backup tool"
            scope = f"{bucket}/{prefix}/" if bucket and prefix else "its bucket prefix"
            raise MissingCredentialsError(
                f"the program cannot create keys on {destination!r}, so writer {writer_key!r} needs its own {what}, "
                f"limited to {scope} (see README, 'Keys per writer'): run {hints}, or export {names}")
        if admin_key and values["access_key_id"] == admin_key.get("access_key_id"):
            raise CredentialReuseError(
                f"{path}.access_key_id is the admin key of {destination!r}: a stolen {role} key would then control "
                f"the whole bucket (lifecycle, lock, every dataset). Create a key limited to the prefix "
                f"{writer_key!r} on the server and set it there instead (see README, 'Keys per writer')")
        return values

    stored = from_config if from_config is not None else pulumi.Output.from_input(None)
    admin_out = admin if admin is not None else pulumi.Output.from_input(None)
    return pulumi.Output.secret(pulumi.Output.all(stored, admin_out).apply(lambda v: pick(v[0], v[1])))


def read_ca_bundle(destination: str, path: str | None) -> str:
    """A destination's private CA bundle (PEM), refused cleanly when the file is missing or not PEM."""
    return read_pem(f"destinations[{destination!r}].ca_file", path)


def read_pem(where: str, path: str | None) -> str:
    """The PEM bundle at `path` (the inventory field `where` names it), refused cleanly when missing or not PEM."""
    try:
        with open(path or "", encoding="ascii") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryConfigError(f"{where} {path!r} cannot be read ({type(exc).__name__}): give the path of the "
                                   "CA's PEM bundle on the machine that runs Pulumi") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InventoryConfigError(f"{where} {path!r} holds no PEM certificate: export the CA certificate in PEM "
                                   "form (-----BEGIN CERTIFICATE-----)")
    return text
