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

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc

__all__ = [
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


def secret(value: Any) -> Any:
    """`value` as a Pulumi secret input, or None when it is None (an optional secret input left out)."""
    return None if value is None else pulumi.Output.secret(value)


def with_secret_outputs(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    """`opts` plus `additional_secret_outputs` for `names`, so those outputs are encrypted in the state."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))
