"""TLS in the inventory: offsite S3 over https only, a private CA instead of switching verification off, and a NAS
that skips verification only with a reason the runbook shows."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import InventoryError, load_inventory


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
