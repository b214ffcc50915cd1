"""The `secret_store` section: both kinds load, and every mistake names its path and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import InventoryError, load_inventory
from inventory.models import KubernetesSecretStore, OnePasswordSecretStore


def problems(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(raw)
    return [(p.path, p.kind, p.message) for p in caught.value.problems]


def test_no_store_by_default(estate):
    assert load_inventory(estate).secret_store is None


def test_kubernetes_store_loads_and_keeps_items_by_default(estate):
    estate["secret_store"] = {"kind": "kubernetes", "namespace": "escrow"}
    store = load_inventory(estate).secret_store
    assert store == KubernetesSecretStore(kind="kubernetes", namespace="escrow", context=None, on_delete="keep")


def test_onepassword_store_loads(estate):
    estate["secret_store"] = {"kind": "onepassword", "connect_host": "https://connect.internal:8443",
                              "vault": "homelab", "on_delete": "remove"}
    store = load_inventory(estate).secret_store
    assert isinstance(store, OnePasswordSecretStore) and store.on_delete == "remove" and store.ca_file is None


def test_mistakes_name_the_field_and_the_fix(estate):
    estate["secret_store"] = {"kind": "onepassword", "connect_host": "connect.internal", "vault": "",
                              "on_delete": "forget", "token": "x"}
    assert problems(estate) == [
        ("secret_store.on_delete", "literal_error", "'forget' is not allowed; use one of 'keep' or 'remove'"),
        ("secret_store.connect_host", "string_pattern_mismatch",
         "'connect.internal' is not an http(s) URL, e.g. `https://connect.internal:8443`"),
        ("secret_store.vault", "string_too_short", "String should have at least 1 character (got '')"),
        ("secret_store.token", "extra_forbidden",
         "unknown field; remove it or check its spelling against the README's inventory reference"),
    ]


def test_unknown_kind_lists_the_kinds(estate):
    estate["secret_store"] = {"kind": "vault", "address": "https://vault"}
    assert problems(estate) == [("secret_store", "union_tag_invalid",
                                 "unknown kind 'vault'; use one of 'kubernetes', 'onepassword'")]


def test_connect_over_plain_http_only_on_loopback(estate):
    estate["secret_store"] = {"kind": "onepassword", "connect_host": "http://connect.internal", "vault": "homelab"}
    [(path, kind, message)] = problems(estate)
    assert (path, kind) == ("secret_store", "value_error")
    assert message.startswith("connect_host 'http://connect.internal' is plain http") and "https://" in message
    estate["secret_store"]["connect_host"] = "http://127.0.0.1:8080"
    assert load_inventory(estate).secret_store.connect_host == "http://127.0.0.1:8080"


def test_store_needs_external_secret_delivery(estate):
    estate["kubernetes"] = {"mode": "apply", "secret_delivery": "secret"}
    estate["secret_store"] = {"kind": "kubernetes", "namespace": "escrow"}
    assert problems(estate) == [("secret_store", "rule", "the store is written for the ExternalSecrets to read, and "
                                 "kubernetes.secret_delivery is `secret`: set it to external-secret or remove "
                                 "secret_store")]
