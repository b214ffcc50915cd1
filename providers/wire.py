"""What the engine hands a dynamic provider, read in one place: unknowns, secret envelopes and wire numbers.

During a preview, `check` and `diff` receive values that are not known yet (a resource id, another resource's
output, a secret generated on `up`). The Python dynamic-provider host deserializes the engine's properties with
`keep_unknowns=True`, so an unknown reaches the provider in one of these forms, alone or nested in maps and lists:

- an instance of `pulumi.output.Unknown` (what the host makes of the wire sentinel);
- the sentinel string itself, `04da6b54-80e4-46f7-96ec-b56ff0331ba9` (values built by hand, older hosts);
- a secret envelope `{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}`
  whose value is one of the above, or None: the host reads a secret's contents without `keep_unknowns`, so an
  unknown secret reaches the provider as a secret None (a secret null carries nothing to validate either).

The engine sends secret envelopes only to providers that declare `acceptSecrets`; Pulumi's Python host (3.260)
does not, so today secrets arrive as plain values and unknown secrets as plain unknowns. Envelopes are still read
here, so a host that starts accepting secrets cannot bring the preview failure back.

tests/providers/wire_forms/ holds the properties captured from a real preview of an empty stack, per provider;
the provider tests replay them through the host's own deserializer. Every number crosses the wire as a double
(14 arrives as 14.0), so the helpers here also give whole numbers back as ints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, ReadResult, UpdateResult
from pulumi.output import Unknown
from pulumi.runtime import rpc

from stack.naming import PROJECT, env_prefix

__all__ = [
    "CREDENTIALS_ENTRY",
    "SECRET_SIG",
    "SECRET_SIG_KEY",
    "UNKNOWN",
    "as_int",
    "differs",
    "has_unknowns",
    "is_int",
    "is_secret_envelope",
    "is_unknown",
    "keep_secrets",
    "known",
    "provisioned",
    "provisioning_credentials",
    "reveal",
    "secret",
    "whole",
    "whole_numbers",
    "with_secret_outputs",
]

UNKNOWN = rpc.UNKNOWN
"""The engine's sentinel for a value not known yet."""
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
"""The key that marks a map as a special value on the wire (sdk/go/common/resource/properties.go)."""
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The signature of a secret envelope under SECRET_SIG_KEY."""


def is_secret_envelope(value: Any) -> bool:
    """True for the host's wrapping of a secret value: `{SECRET_SIG_KEY: SECRET_SIG, "value": ...}`."""
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def _unwrap(value: Any) -> Any:
    while is_secret_envelope(value):
        value = value.get("value")
    return value


def is_unknown(value: Any) -> bool:
    """True if the value itself is not known yet (as a secret or not); a map holding an unknown is not one."""
    if is_secret_envelope(value) and _unwrap(value) is None:
        return True
    value = _unwrap(value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def has_unknowns(value: Any) -> bool:
    """True if the value, or anything inside it (map values, list items, secret envelopes), is not known yet."""
    if is_unknown(value):
        return True
    value = _unwrap(value)
    if isinstance(value, Mapping):
        return any(has_unknowns(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknowns(item) for item in value)
    return False


def known(value: Any) -> bool:
    """True if the whole value is known, so it can be validated."""
    return not has_unknowns(value)


def reveal(value: Any) -> Any:
    """The value with every secret envelope opened, at any depth: what validation and comparison look at."""
    value = _unwrap(value)
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def is_int(value: Any) -> bool:
    """True for an int that is not a bool (call after `whole`, so 14.0 from the wire counts)."""
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value: Any) -> int | None:
    """The int a wire number stands for (14.0 -> 14), or None for anything that is not a whole number."""
    value = whole(value)
    return value if is_int(value) else None


def whole(value: Any) -> Any:
    """An integral wire number as an int (14.0 -> 14); anything else unchanged (booleans stay booleans)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole_numbers(value: Any) -> Any:
    """`whole` applied at any depth, through maps, lists and secret envelopes (which are kept)."""
    if is_secret_envelope(value):
        return {**value, "value": whole_numbers(value.get("value"))}
    if isinstance(value, Mapping):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    return whole(value)


def keep_secrets(original: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` (checked inputs built from revealed ones) with each property that arrived secret wrapped again.

    `check` validates and normalises revealed values; what it hands back must stay secret where the input was.
    """
    return {
        key: {SECRET_SIG_KEY: SECRET_SIG, "value": value}
        if is_secret_envelope(original.get(key)) and not is_secret_envelope(value)
        else value
        for key, value in values.items()
    }


def differs(old: Any, new: Any) -> bool:
    """Whether a diff must report a (possible) change: the new value is not fully known, or it is not the old one.

    Secret envelopes and wire doubles do not count as differences: `{secret: 14.0}` equals `14`.
    """
    if has_unknowns(new):
        return True
    return whole_numbers(reveal(old)) != whole_numbers(reveal(new))


def require_to_read(props: Mapping[str, Any], keys: tuple[str, ...], what: str,
                    error: Callable[[str], Exception]) -> None:
    """Refuse a read that lacks the inputs needed to reach the object's server: `pulumi import` and `.get` bring only
    an id, and reading a key, user or item needs its endpoint and credentials as well."""
    missing = [k for k in keys if not props.get(k)]
    if missing:
        raise error(f"to read {what} pass {', '.join(missing)} as well")


def read_found(id_: str, outs: Mapping[str, Any] | None, input_keys: tuple[str, ...]) -> ReadResult:
    """The read of an object `outs` describes, or (None) the empty id that tells the engine it is gone on the server;
    the inputs are the outputs' input keys, so a refresh shows drift as a diff against the program."""
    if outs is None:
        return ReadResult("", {})
    return ReadResult(id_, dict(outs), {k: outs.get(k) for k in input_keys})


def secret(value: Any) -> Any:
    """`value` as a Pulumi secret input, or None when it is None (an optional secret input left out)."""
    return None if value is None else pulumi.Output.secret(value)


def with_secret_outputs(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    """`opts` plus `additional_secret_outputs` for `names`, so those outputs are encrypted in the state."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))


# ---------------------------------------------------------------------------------------------
# Provisioning credentials: provider configuration, never resource inputs.
#
# An admin key held as a resource input is part of every diff: a pull-request preview run with read-only keys (or
# any key rotation) shows every bucket and identity "changing", and the admin key sits in the state of each
# resource. The Python dynamic-provider host (3.260) configures its default provider with the whole stack config
# and calls `ResourceProvider.configure` with it once per process; the provider plugin also inherits the CLI's
# environment. So a resource names the `credentials.<entry>` it is provisioned with (`credentials_entry`), and the
# provider reads the key at operation time: a different key changes no resource and no provider (measured through
# the engine in tests/engine/test_local_stack.py). The config namespace and the `HLB_<ENTRY>_` names come from
# stack/naming.py, their one home (providers may import stack/; the layering test forbids only components).

CREDENTIALS_ENTRY = "credentials_entry"
"""The input naming which `credentials.<entry>` of the stack provisions a resource."""

_configured: dict[str, Any] = {}
"""The stack's `credentials` object as the engine configured this provider process (empty in the program)."""


def _credentials_section(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return reveal(raw) if isinstance(raw, Mapping) else {}


def configure_from(req: ConfigureRequest) -> None:
    """Keep the stack's `credentials` object from the engine's configuration of this provider process."""
    _configured.clear()
    _configured.update(_credentials_section(req.config.get(f"{PROJECT}:credentials")))


class ProvisioningError(pulumi.RunError):
    """A resource's provisioning credentials are missing: one message with the config path and the variables."""


def provisioning_credentials(entry: str, fields: tuple[str, ...]) -> dict[str, str]:
    """One credential entry's fields: the stack config the provider was configured with, then `HLB_<ENTRY>_<FIELD>`."""
    stored = _configured.get(entry)
    stored = stored if isinstance(stored, Mapping) else {}
    values = {f: stored.get(f) or os.environ.get(env_prefix(entry) + f.upper()) for f in fields}
    missing = [f for f, v in values.items() if not v]
    if missing:
        hints = ", ".join(f"`pulumi config set --secret --path 'credentials.{entry}.{f}' ...`" for f in missing)
        names = ", ".join(env_prefix(entry) + f.upper() for f in missing)
        raise ProvisioningError(f"the provider has no credentials.{entry} {missing}: run {hints}, or export {names}")
    return {f: str(v) for f, v in values.items()}


def provisioned(credential_input: str, fields: tuple[str, ...]) -> Callable[[type], type]:
    """Class decorator for a dynamic provider whose admin key is `credential_input`.

    A resource that names `credentials_entry` instead of passing the key gets it filled in from the provider's
    configuration for every call, and the key is kept out of everything handed back to the engine (checked inputs,
    outputs, read inputs): it is neither diffed nor stored. A resource that passes the key itself works as before.
    """
    def fill(props: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        props = dict(props)
        entry = props.get(CREDENTIALS_ENTRY)
        if props.get(credential_input) is not None or not isinstance(entry, str) or not entry:
            return props, False
        props[credential_input] = provisioning_credentials(entry, fields)
        return props, True

    def strip(values: Mapping[str, Any] | None, filled: bool, props: Mapping[str, Any]) -> dict[str, Any] | None:
        if values is None or not filled:
            return values  # type: ignore[return-value]
        # The entry travels with the outputs, so delete and refresh (which see only the state) find the key too.
        return {**{k: v for k, v in values.items() if k != credential_input},
                CREDENTIALS_ENTRY: props[CREDENTIALS_ENTRY]}

    def decorate(cls: type) -> type:
        base_check, base_create, base_read = cls.check, cls.create, cls.read
        base_update, base_delete = cls.update, cls.delete

        def configure(self: Any, req: ConfigureRequest) -> None:
            configure_from(req)

        def check(self: Any, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
            try:
                full, filled = fill(news)
            except ProvisioningError as exc:
                return CheckResult(news, [CheckFailure(CREDENTIALS_ENTRY, str(exc))])
            result = base_check(self, olds, full)
            return CheckResult(strip(result.inputs, filled, news), result.failures)

        def create(self: Any, props: dict[str, Any]) -> Any:
            full, filled = fill(props)
            result = base_create(self, full)
            result.outs = strip(result.outs, filled, props)
            return result

        def read(self: Any, id_: str, props: dict[str, Any]) -> ReadResult:
            full, filled = fill(props)
            result = base_read(self, id_, full)
            outs = strip(result.outs, filled, props) if result.id else result.outs
            return ReadResult(result.id, outs, strip(result.inputs, filled, props))

        def update(self: Any, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            full, filled = fill(news)
            return UpdateResult(strip(base_update(self, id_, olds, full).outs, filled, news))

        def delete(self: Any, id_: str, props: dict[str, Any]) -> None:
            base_delete(self, id_, fill(props)[0])

        for name, method in (("configure", configure), ("check", check), ("create", create), ("read", read),
                             ("update", update), ("delete", delete)):
            method.__name__ = name
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            method.__doc__ = getattr(cls, name).__doc__
            setattr(cls, name, method)
        return cls

    return decorate


def boto_errors() -> ModuleType:
    """botocore.exceptions, imported when an error reaches an `except` clause naming `boto_errors().ClientError`
    (an `except` expression is evaluated only then). boto3/botocore (0.5 s of imports) come with a provider's first
    client, not with its module: the program only declares resources, and a preview's check and diff never reach a
    server."""
    import botocore.exceptions

    return botocore.exceptions


def http_errors() -> ModuleType:
    """urllib3.exceptions, imported the same way as `boto_errors` (the program and a preview need none)."""
    import urllib3.exceptions

    return urllib3.exceptions
