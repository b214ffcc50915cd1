"""Destinations whose admin API the program drives (Garage, Ceph RGW, Wasabi) get a writer and a read-only identity
per writer, created through that API with the admin key read from provider configuration (never an input)."""

from __future__ import annotations

import json

import pytest

from components.buckets import identity_name
from plan import build_plan
from tests.components.harness import PROD_ENV, run_estate, stack_config

EXTRA = [
    {"name": "garage", "kind": "s3-compatible", "endpoint": "https://nas.internal:3900", "flavour": "garage",
     "admin_api": "garage", "admin_endpoint": "https://nas.internal:3903", "offsite": False},
    {"name": "ceph", "kind": "s3-compatible", "endpoint": "https://rgw.internal", "flavour": "ceph",
     "admin_api": "ceph-rgw", "offsite": False},
    {"name": "wasabi", "kind": "s3-compatible", "endpoint": "https://s3.eu-central-2.wasabisys.com",
     "flavour": "wasabi", "admin_api": "wasabi", "region": "eu-central-2"},
]
DATASET = {"name": "paperless", "tier": 2, "size_gb": 5, "destinations": ["garage", "ceph", "wasabi"],
           "source": {"kind": "pvc", "namespace": "docs", "claim": "paperless-data", "storage_class": "ceph-block",
                      "capacity": "10Gi"}}
ENV = {**PROD_ENV, "HLB_GARAGE_ACCESS_KEY_ID": "garage-s3-id", "HLB_GARAGE_SECRET_ACCESS_KEY": "SECRET-garage-s3",
       "HLB_GARAGE_ADMIN_TOKEN": "SECRET-garage-token", "HLB_CEPH_ACCESS_KEY_ID": "ceph-admin-id",
       "HLB_CEPH_SECRET_ACCESS_KEY": "SECRET-ceph-admin", "HLB_WASABI_ACCESS_KEY_ID": "wasabi-root-id",
       "HLB_WASABI_SECRET_ACCESS_KEY": "SECRET-wasabi-root"}


def _config() -> dict[str, str]:
    config = stack_config("prod")
    destinations = json.loads(config["homelab-backups:destinations"]) + EXTRA
    datasets = json.loads(config["homelab-backups:datasets"]) + [DATASET]
    return {**config, "homelab-backups:destinations": json.dumps(destinations),
            "homelab-backups:datasets": json.dumps(datasets)}


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def estate(request):
    registered, exported = run_estate("prod", preview=request.param, config=_config(), env=ENV)
    return registered, exported


def _plan():
    import yaml

    from inventory import load_inventory
    from tests.components.harness import ROOT

    raw = {k.split(":", 1)[1]: v for k, v in yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"].items()}
    raw["destinations"] = raw["destinations"] + EXTRA
    raw["datasets"] = raw["datasets"] + [DATASET]
    return build_plan(load_inventory({k: v for k, v in raw.items() if k != "inventory_file"}))


def _of(registered, suffix: str):
    return [r for r in registered if r.typ.endswith(suffix)]


@pytest.mark.parametrize(("destination", "suffix", "name_key"), [
    ("garage", "garage:Key", "key_name"), ("ceph", "rgw:User", "uid"), ("wasabi", "wasabi:User", "user_name")])
def test_each_writer_gets_a_writer_and_a_reader_identity_through_the_admin_api(estate, destination, suffix,
                                                                                name_key):
    registered, exported = estate
    (bucket,) = [b for b in _plan().buckets if b.destination == destination]
    identities = {r.inputs[name_key]: r for r in _of(registered, suffix)
                  if r.inputs.get("credentials_entry") == destination}
    expected = {identity_name(bucket, w, role) for w in bucket.writers for role in ("writer", "reader")}
    assert set(identities) == expected and expected
    for identity in identities.values():
        assert identity.protect, identity.urn
        assert identity.inputs.get("credentials") is None, f"{identity.urn} holds the admin key as an input"
        assert identity.parent and identity.parent.endswith(f"{destination}-tier2"), identity.urn
        if destination != "ceph":
            access = "read" if identity.inputs[name_key].endswith("-ro") else "write"
            assert identity.inputs["access"] == access, identity.urn
    writer = bucket.writers[0]
    assert exported["credentials"]["paperless"][destination]["secret_access_key"].startswith("SECRET-"), exported
    assert exported["credentials"]["paperless"][destination] != exported["reader_credentials"]["paperless"][
        destination]
    assert writer.prefix


def test_garage_keys_are_managed_at_the_admin_endpoint(estate):
    registered, _ = estate
    keys = _of(registered, "garage:Key")
    assert {k.inputs["admin_endpoint"] for k in keys} == {"https://nas.internal:3903"}


def test_wasabi_users_are_created_through_wasabi_iam(estate):
    registered, _ = estate
    assert {u.inputs["endpoint"] for u in _of(registered, "wasabi:User")} == {"https://iam.wasabisys.com"}


def test_the_ceph_bucket_policy_scopes_every_identity_to_its_prefix(estate):
    registered, _ = estate
    (bucket,) = [b for b in _plan().buckets if b.destination == "ceph"]
    (policy,) = _of(registered, "rgw:BucketPolicy")
    assert policy.inputs["bucket"] == bucket.name and policy.protect and policy.inputs.get("credentials") is None
    assert sorted((g["uid"], g["prefix"], g["access"]) for g in policy.inputs["grants"]) == sorted(
        (identity_name(bucket, w, role), w.prefix, "write" if role == "writer" else "read")
        for w in bucket.writers for role in ("writer", "reader"))
