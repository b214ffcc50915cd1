"""TLS in the inventory: offsite S3 over https only, a private CA instead of switching verification off, and a NAS
that skips verification only with a reason the runbook shows."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import InventoryError, load_inventory
from inventory.models import KubernetesSecretStore, OnePasswordSecretStore
from plan import build_plan
from plan.capabilities import identities_of


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


# The admin API an S3-compatible destination's per-writer keys are created through (`admin_api`), validated
# against the flavour, with the admin endpoint where the API needs one.

def dest(flavour: str, **extra: Any) -> dict[str, Any]:
    return {"name": "objects", "kind": "s3-compatible", "endpoint": "https://objects.example.net",
            "flavour": flavour, **extra}


@pytest.mark.parametrize(("flavour", "extra", "identities", "admin_endpoint"), [
    ("minio", {}, "minio-admin", "https://objects.example.net"),
    ("minio", {"admin_api": "none"}, "supplied", "https://objects.example.net"),
    ("storj", {}, "supplied", "https://objects.example.net"),
    ("garage", {}, "supplied", "https://objects.example.net"),
    ("garage", {"admin_api": "garage", "admin_endpoint": "https://objects.example.net:3903"}, "garage-admin",
     "https://objects.example.net:3903"),
    ("ceph", {"admin_api": "ceph-rgw"}, "rgw-admin", "https://objects.example.net"),
    ("wasabi", {"admin_api": "wasabi"}, "wasabi-iam", "https://iam.wasabisys.com"),
    ("wasabi", {"admin_api": "wasabi", "admin_endpoint": "https://iam.eu-central-2.wasabisys.com"}, "wasabi-iam",
     "https://iam.eu-central-2.wasabisys.com"),
])
def test_admin_api_selects_who_creates_the_keys(estate, flavour, extra, identities, admin_endpoint):
    estate["destinations"].append(dest(flavour, **extra))
    estate["datasets"][1]["destinations"] = ["nas", "b2", "objects"]
    buckets = [b for b in build_plan(load_inventory(estate)).buckets if b.destination == "objects"]
    assert buckets
    for bucket in buckets:
        assert identities_of(bucket.kind, bucket.flavour, bucket.admin_api) == identities
        assert bucket.admin_endpoint == admin_endpoint


@pytest.mark.parametrize(("flavour", "extra", "message"), [
    ("storj", {"admin_api": "minio"}, "admin_api 'minio' is the minio server's API, but flavour is 'storj': set "
                                      "flavour: minio, or admin_api: none to supply each writer's keys yourself"),
    ("ceph", {"admin_api": "wasabi"}, "admin_api 'wasabi' is the wasabi server's API, but flavour is 'ceph': set "
                                      "flavour: wasabi, or admin_api: none to supply each writer's keys yourself"),
    ("garage", {"admin_api": "garage"}, "admin_api 'garage' needs admin_endpoint, the Garage admin API's address "
                                        "(port 3903 by default, e.g. https://nas.internal:3903)"),
    ("minio", {"admin_endpoint": "https://objects.example.net:9001"},
     "admin_endpoint only applies to admin_api garage, ceph-rgw or wasabi (here 'minio'); remove it"),
    ("garage", {"admin_api": "garage", "admin_endpoint": "http://objects.example.net:3903"},
     "admin_endpoint 'http://objects.example.net:3903' is plain http and the admin credential travels in every "
     "request: write https://..."),
])
def test_a_mismatched_admin_api_is_refused_with_the_fix(estate, flavour, extra, message):
    estate["destinations"].append(dest(flavour, **extra))
    assert problems(estate) == [("destinations[3]", "value_error", message)]


def test_an_unknown_admin_api_names_the_choices(estate):
    estate["destinations"].append(dest("ceph", admin_api="radosgw"))
    ((path, kind, message),) = problems(estate)
    assert (path, kind) == ("destinations[3].admin_api", "literal_error")
    assert "'minio', 'garage', 'ceph-rgw', 'wasabi' or 'none'" in message


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


# --- movers: kopiur and the stack-wide default (issue 15) -------------------------------------------------------


def test_a_pvc_without_a_mover_takes_the_stack_default(estate):
    estate["kubernetes"] = {"default_mover": "kopiur"}
    inv = load_inventory(estate)
    movers = {d.name: d.source.mover for d in inv.datasets if d.source.kind == "pvc"}
    assert movers == {"vaultwarden": "kopiur", "grafana": "kopia", "media": "kopiur"}


def test_without_a_stack_default_pvcs_use_restic(estate):
    inv = load_inventory(estate)
    assert inv.datasets[0].source.mover == "restic"


def test_an_unknown_mover_names_the_choices(estate):
    estate["datasets"][0]["source"]["mover"] = "velero"
    ((path, kind, message),) = problems(estate)
    assert (path, kind) == ("datasets[0].source.mover", "literal_error")
    assert "'restic', 'kopia' or 'kopiur'" in message


def test_an_unknown_stack_default_mover_is_refused_where_it_is_written(estate):
    estate["kubernetes"] = {"default_mover": "velero"}
    ((path, kind, _),) = problems(estate)
    assert (path, kind) == ("kubernetes.default_mover", "literal_error")


def test_replication_needs_the_kopiur_mover(estate):
    estate["datasets"][0]["source"]["offsite_by"] = "replication"
    assert problems(estate) == [(
        "datasets[0].source.offsite_by", "rule",
        "replication copies the NAS kopia repository that Kopiur writes, and this dataset's mover is 'restic': set "
        "mover: kopiur, or offsite_by: snapshot")]


def test_replication_needs_a_nas_repository_to_replicate(estate):
    estate["destinations"].append({"name": "minio", "kind": "s3-compatible", "endpoint": "https://nas:9000",
                                   "flavour": "minio", "offsite": False})
    estate["datasets"][0]["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    estate["datasets"][0]["destinations"] = ["minio", "b2"]
    assert problems(estate) == [(
        "datasets[0].destinations", "rule",
        "offsite_by: replication replicates the repository on the NAS, and no nfs destination is among this "
        "dataset's destinations: add one (e.g. the NAS export), or set offsite_by: snapshot")]


def test_replication_needs_somewhere_offsite(estate):
    estate["datasets"][1]["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    assert problems(estate) == [(
        "datasets[1].source.offsite_by", "rule",
        "offsite_by: replication has no offsite destination to replicate to; add one to destinations, or remove "
        "offsite_by")]


def test_a_replicated_kopiur_dataset_loads(estate):
    estate["datasets"][0]["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    source = load_inventory(estate).datasets[0].source
    assert (source.mover, source.offsite_by) == ("kopiur", "replication")
