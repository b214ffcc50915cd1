"""Object metadata shared by every manifest builder; names and labels are spelled in plan/names.py."""

from __future__ import annotations

from typing import Any

from plan.names import (  # noqa: F401 (re-exported: builders read names and labels from here)
    CRONJOB_NAME_LIMIT,
    LABEL_DATASET,
    LABEL_DESTINATION,
    LABEL_MANAGED_BY,
    LABEL_STORAGE_CLASS,
    LABEL_TIER,
    LABEL_VERIFICATION,
    MANAGER,
    NAME_LIMIT,
    labels,
    object_name,
    tier_labels,
)


def metadata(name: str, namespace: str | None, object_labels: dict[str, str]) -> dict[str, Any]:
    """ObjectMeta with a copy of the labels, so callers can never share one mutable dict between objects."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(object_labels)
    return meta
