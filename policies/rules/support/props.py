"""Plain views of what the engine hands a policy: unknowns and secrets made explicit, labels and numbers read safely.

The SDK wraps properties in proxies that raise on unknown values wherever they are touched (even `in` and `.get`).
Rules instead work on plain dicts in which an unknown is an `Unknown` object and a value the engine marked secret
is a `SecretStr`; a rule that needs an unknown value calls `require` and the SDK downgrades it to advisory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pulumi_policy.policy as _sdk
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)

LABEL_PREFIX = "backup.homelab/"
LABEL_DATASET = "backup.homelab/dataset"
LABEL_TIER = "backup.homelab/tier"
LABEL_DESTINATION = "backup.homelab/destination"
LABEL_OFFSITE = "backup.homelab/offsite"
LABEL_LOCK_DAYS = "backup.homelab/lock-days"
LABEL_PRICE = "backup.homelab/price-usd-per-tb-month"
LABEL_STORAGE_CLASS = "backup.homelab/storage-class"
LABEL_VERIFICATION = "backup.homelab/verification"

_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE,
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class Unknown:
    """A value the engine cannot know during preview (computed by a provider, or derived from such a value)."""

    __slots__ = ("secret", "sentinel")

    def __init__(self, sentinel: str = UNKNOWN_STRING_VALUE, secret: bool = False) -> None:
        self.sentinel = sentinel
        self.secret = secret
        """The engine marked it secret: whatever it becomes will be a secret too."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return hash(Unknown)


UNKNOWN = Unknown()


class SecretStr(str):
    """A string the engine marked secret: compares like the plain string, but rules can tell it apart."""

    __slots__ = ()


def is_unknown(value: Any) -> bool:
    """True for an `Unknown` (or a raw SDK sentinel that slipped through)."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value in _SENTINELS)


def is_secret(value: Any) -> bool:
    """True when the engine delivered this value as a Pulumi secret (known, or unknown but marked)."""
    return isinstance(value, SecretStr) or (isinstance(value, Unknown) and value.secret)


def require(value: Any, *path: str | int) -> Any:
    """The value itself; an unknown raises the SDK's error, so the policy is reported advisory for this run."""
    if is_unknown(value):
        sentinel = value.sentinel if isinstance(value, Unknown) else value
        raise UnknownValueError(sentinel, [str(p) for p in path])
    return value


def plain(value: Any) -> Any:
    """Unwrap SDK proxies recursively into dicts and lists, turning unknown sentinels into `Unknown`."""
    if isinstance(value, (_DictProxy, _ListProxy)):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in _SENTINELS:
        return Unknown(str(value), secret=isinstance(value, SecretStr))
    return value


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """Walk dicts and lists; a missing step gives `default`, an unknown step gives `Unknown` (never raises)."""
    current = props
    for step in path:
        if is_unknown(current):
            return current if isinstance(current, Unknown) else Unknown(str(current))
        if isinstance(current, Mapping) and isinstance(step, str):
            if step not in current:
                return default
            current = current[step]
        elif isinstance(current, list) and isinstance(step, int):
            if not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            return default
    return current


def labels_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """`metadata.labels` of a Kubernetes object (empty when absent)."""
    found = get(props, "metadata", "labels")
    return dict(found) if isinstance(found, Mapping) else {}


def number(value: Any) -> float | None:
    """A finite number (the engine sends every number as a float; labels carry numbers as strings), else None."""
    if isinstance(value, bool) or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def fmt(value: float | None) -> str:
    """A number as people write it: 14 rather than 14.0, 0.5 stays 0.5."""
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def truthy(value: Any) -> bool | None:
    """A boolean from a bool or a label string ('true'/'false'); None when absent, unknown or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and not is_unknown(value):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    return None


def _mark_secrets(raw: Any, value: Any) -> Any:
    """Copy `value`, turning every string under a secret envelope of `raw` into a `SecretStr`."""
    if isinstance(raw, Mapping) and raw.get(_SECRET_SIG_KEY) == _SECRET_SIG:
        return _as_secret(value)
    if isinstance(raw, Mapping) and isinstance(value, dict):
        return {k: _mark_secrets(raw.get(k), v) for k, v in value.items()}
    if isinstance(raw, list) and isinstance(value, list) and len(raw) == len(value):
        return [_mark_secrets(r, v) for r, v in zip(raw, value, strict=True)]
    return value


def _as_secret(value: Any) -> Any:
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, dict):
        return {k: _as_secret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_secret(v) for v in value]
    return value


def install_secret_marking() -> None:
    """Keep the engine's secret markers visible to rules (idempotent).

    The engine sends secrets to analyzers with their envelope, but pulumi-policy 1.21's Analyze and AnalyzeStack
    deserialize with `proxy_secrets=False`, which drops it: a rule cannot otherwise tell a Pulumi secret from
    plaintext (pulumi_policy/policy.py, `deserialize_properties(json_format.MessageToDict(...))`). This wraps
    that module-level function so secret strings arrive as `SecretStr`, which equals the plain string everywhere.
    """
    original: Callable[..., Any] = _sdk.deserialize_properties
    if getattr(original, "_hlb_marks_secrets", False):
        return

    def deserialize_marking_secrets(props: Any, proxy_secrets: bool = False) -> Any:
        """The SDK's deserialization, with secret strings kept as `SecretStr`."""
        return _mark_secrets(props, original(props, proxy_secrets))

    deserialize_marking_secrets._hlb_marks_secrets = True  # type: ignore[attr-defined]
    _sdk.deserialize_properties = deserialize_marking_secrets  # type: ignore[assignment]


def secret_marking_installed() -> bool:
    """Whether secret markers reach the rules in this process."""
    return bool(getattr(_sdk.deserialize_properties, "_hlb_marks_secrets", False))
