"""TLS in the inventory: offsite S3 over https only, a private CA instead of switching verification off, and a NAS
that skips verification only with a reason the runbook shows."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import InventoryError, load_inventory
from inventory.models import KubernetesSecretStore, OnePasswordSecretStore


def problems(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(raw)
    return [(p.path, p.kind, p.message) for p in caught.value.problems]


def s3(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"name": "storj", "kind": "s3-compatible", "endpoint": endpoint, "flavour": "storj", **extra}


def test_offsite_plain_http_is_refused_with_the_fix(estate):
    estate["destinations"].append(s3("http://gateway.storjshare.io"))
    ((path, _, message),) = problems(estate)
    assert path == "destinations[3]"
    assert "'http://gateway.storjshare.io' is plain http, and offsite destinations must use https" in message
    assert "set ca_file" in message


def test_local_http_and_loopback_stand_ins_are_accepted(estate):
    estate["datasets"][2]["destinations"] = ["b2", "r2"]  # pgBackRest has its own https rule
    estate["destinations"].append(s3("http://minio.lan:9000", offsite=False))
    estate["destinations"].append({**s3("http://127.0.0.1:9400"), "name": "loopback"})
    load_inventory(estate)


def test_a_private_ca_bundle_goes_with_https_only(estate):
    estate["destinations"].append(s3("https://citadel.internal:9000", ca_file="/etc/ssl/homelab-ca.pem"))
    assert load_inventory(estate).destination("storj").ca_file == "/etc/ssl/homelab-ca.pem"
    estate["datasets"][2]["destinations"] = ["b2", "r2"]
    estate["destinations"][-1] = s3("http://minio.lan:9000", offsite=False, ca_file="/etc/ssl/homelab-ca.pem")
    assert problems(estate) == [("destinations[3]", "value_error",
                                 "ca_file only applies to an https:// endpoint; remove it or switch the "
                                 "endpoint to https")]


def test_nas_verification_off_needs_a_reason(estate):
    estate["truenas"]["verify_tls"] = False
    ((path, _, message),) = problems(estate)
    assert path == "truenas"
    assert "verify_tls: false would send the NAS API key" in message and "verify_tls_reason" in message
    estate["truenas"]["verify_tls_reason"] = "self-signed certificate until the CA is rolled out"
    assert load_inventory(estate).truenas.verify_tls_reason.startswith("self-signed")


def test_a_reason_without_switching_verification_off_is_refused(estate):
    estate["truenas"]["verify_tls_reason"] = "no reason at all, really"
    ((path, _, message),) = problems(estate)
    assert path == "truenas" and "verify_tls_reason only applies with verify_tls: false" in message


def test_the_runbook_shows_how_each_endpoint_is_verified(estate):
    from plan import build_plan
    from runbook.contract import runbook_contract

    estate["truenas"] |= {"verify_tls": False, "verify_tls_reason": "self-signed certificate on the lab NAS"}
    inv = load_inventory(estate)
    tls = runbook_contract(inv, build_plan(inv))["tls"]
    assert tls["nas"] == {"host": "citadel.internal", "verified": False, "ca_file": None,
                          "unverified_because": "self-signed certificate on the lab NAS"}
    assert tls["destinations"]["b2"]["verified"] is True and "nas" not in tls["destinations"]


# The `secret_store` section: both kinds load, and every mistake names its path and the fix.


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
