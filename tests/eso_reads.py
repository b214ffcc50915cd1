"""ExternalSecret-shaped reads: resolve each `remoteRef` of a rendered ExternalSecret as External Secrets does.

- `onepassword` provider (external-secrets `pkg/provider/onepassword`): `key` is an item title, looked up in the
  store's vaults in priority order (more than one item with that title in a vault is an error); `property` is a
  field label of that item (a label used twice is an error).
- `kubernetes` provider (`pkg/provider/kubernetes`): `key` is a Secret name in the store's `remoteNamespace`,
  `property` a key of its `data` (base64-decoded).

Used by the escrow tests to prove that what the program wrote is what the ExternalSecrets will read.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from onepasswordconnectsdk.client import Client


class NotResolved(AssertionError):
    """The ExternalSecret would fail to sync: its item or property is missing or ambiguous."""


def onepassword_reader(client: Client, vault_ids: list[str]) -> Callable[[str, str], str]:
    """(key, property) -> value, through the Connect API, as the ESO onepassword provider resolves it."""
    def read(key: str, prop: str) -> str:
        for vault_id in vault_ids:
            found = client.get_items(vault_id, f'title eq "{key}"')
            if len(found) > 1:
                raise NotResolved(f"{len(found)} items titled {key!r} in vault {vault_id}")
            if found:
                item = client.get_item_by_id(found[0].id, vault_id)
                values = [f.value for f in item.fields or [] if f.label == prop]
                if len(values) != 1:
                    raise NotResolved(f"item {key!r} has {len(values)} fields labelled {prop!r}")
                return values[0]
        raise NotResolved(f"no item titled {key!r} in vaults {vault_ids}")
    return read


def kubernetes_reader(get: Callable[[str], dict[str, Any]], namespace: str) -> Callable[[str, str], str]:
    """(key, property) -> value from the Secrets of `namespace`; `get` is a GET on the API server."""
    def read(key: str, prop: str) -> str:
        try:
            secret = get(f"/api/v1/namespaces/{namespace}/secrets/{key}")
        except AssertionError as exc:
            raise NotResolved(f"no Secret {key!r} in namespace {namespace!r}: {exc}") from None
        data = secret.get("data") or {}
        if prop not in data:
            raise NotResolved(f"Secret {key!r} has no key {prop!r} (has {sorted(data)})")
        return base64.b64decode(data[prop]).decode()
    return read


def resolve(external_secret: dict[str, Any], read: Callable[[str, str], str]) -> dict[str, str]:
    """secretKey -> value for every `spec.data` entry of one ExternalSecret."""
    return {entry["secretKey"]: read(entry["remoteRef"]["key"], entry["remoteRef"]["property"])
            for entry in external_secret["spec"]["data"]}
