"""How messages name things: the object a reader can find, and the dataset it protects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .props import LABEL_DATASET, LABEL_TIER, get, is_unknown, labels_of


def k8s_title(props: Mapping[str, Any], fallback: str) -> str:
    """`ReplicationSource security/vaultwarden-b2`: kind, namespace and name of a Kubernetes object."""
    kind = props.get("kind")
    name = get(props, "metadata", "name")
    namespace = get(props, "metadata", "namespace")
    kind = kind if isinstance(kind, str) and not is_unknown(kind) else "object"
    if not isinstance(name, str) or is_unknown(name):
        name = fallback
    if isinstance(namespace, str) and not is_unknown(namespace):
        return f"{kind} {namespace}/{name}"
    return f"{kind} {name}"


def protects(props: Mapping[str, Any]) -> str:
    """` (dataset vaultwarden, tier 1)` from an object's labels, or nothing."""
    labels = labels_of(props)
    dataset, tier = labels.get(LABEL_DATASET), labels.get(LABEL_TIER)
    parts = []
    if isinstance(dataset, str):
        parts.append(f"dataset {dataset}")
    if isinstance(tier, str):
        parts.append(f"tier {tier}")
    return f" ({', '.join(parts)})" if parts else ""


def quoted(value: Any) -> str:
    """A found value as the message shows it."""
    if is_unknown(value):
        return "<unknown until deploy>"
    return repr(value) if isinstance(value, str) else str(value)
