"""Where the rendered ExternalSecrets read each sensitive value: the store item (remote key) and its property.

One home for the naming: the ExternalSecret builder (manifests/secrets.py) writes these keys into `remoteRef`,
and the escrow (components/escrow.py) writes the values under the same keys, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

STORE_PREFIX = "homelab-backups"
"""Every store item the program reads or writes is named `homelab-backups<separator><secret name>`."""


def remote_key_prefix(store_kind: str | None) -> str:
    """`homelab-backups/` (1Password titles, and the form users copy by hand), or `homelab-backups.` for the
    Kubernetes store, whose items are Secrets named as DNS subdomains (no `/` allowed)."""
    return f"{STORE_PREFIX}." if store_kind == "kubernetes" else f"{STORE_PREFIX}/"


def remote_refs(external_secret: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(remote key, property) of every value an ExternalSecret reads, in its own order."""
    for entry in external_secret["spec"]["data"]:
        yield entry["remoteRef"]["key"], entry["remoteRef"]["property"]


def item_suffix(remote_key: str) -> str:
    """The part of a remote key after the prefix: the secret name, used to name the escrow resource."""
    for separator in "/.":
        if remote_key.startswith(STORE_PREFIX + separator):
            return remote_key[len(STORE_PREFIX) + 1:]
    return remote_key
