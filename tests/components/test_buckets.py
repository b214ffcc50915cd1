"""components/buckets.py on the prod stack under mocks: every bucket private, encrypted, lifecycle and lock
exactly as planned, one scoped writer and one read-only credential per writer, none of them an admin key."""

from __future__ import annotations

import json

import pytest

from components.buckets import identity_name
from plan import build_plan
from providers.b2 import MANAGEMENT_CAPABILITIES, READER_CAPABILITIES, WRITER_CAPABILITIES
from tests.components.harness import PROD_ENV, of_type, run_estate, stack_config, stack_plan


def test_b2_buckets_match_the_plan(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    buckets = {r.inputs["bucket_name"]: r for r in of_type(registered, "b2:Bucket")}
    expected = {b.name: b for b in plan.buckets if b.kind == "b2"}
    assert set(buckets) == set(expected)
    for name, bucket in buckets.items():
        want = expected[name]
        assert bucket.protect, bucket.urn
        assert bucket.inputs["lifecycle"] == {"noncurrent_days": want.lifecycle.noncurrent_days,
                                              "abort_multipart_days": 7}, bucket.urn
        assert bucket.inputs["lock_days"] == want.lock_days, bucket.urn
        assert bucket.inputs["bucket_info"]["backup.homelab/tier"] == str(want.tier), bucket.urn
        if want.tier == 1:
            assert want.lock_days > 0, bucket.urn


def test_b2_a_prefix_scoped_writer_key_and_read_only_key_per_writer_without_management_capabilities(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    keys = of_type(registered, "b2:ApplicationKey")
    writers = [w for b in plan.buckets if b.kind == "b2" for w in b.writers]
    readers = [k for k in keys if k.name.endswith("-read-key")]
    assert len(keys) == 2 * len(writers) and len(readers) == len(writers)
    prefixes = sorted(k.inputs["name_prefix"] for k in readers)
    assert prefixes == sorted(w.prefix + "/" for w in writers)
    for key in keys:
        assert key.protect, key.urn
        wanted = READER_CAPABILITIES if key in readers else WRITER_CAPABILITIES
        assert sorted(key.inputs["capabilities"]) == sorted(wanted), key.urn
        assert not MANAGEMENT_CAPABILITIES & set(key.inputs["capabilities"]), key.urn
        assert not {"writeFileRetentions", "writeFileLegalHolds", "bypassGovernance"} & set(key.inputs["capabilities"])
        assert "application_key" in key.secret_outputs, key.urn


def test_r2_buckets_lifecycle_no_lock_and_bucket_scoped_tokens(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    r2 = [b for b in plan.buckets if b.kind == "r2"]
    assert {r.inputs["name"] for r in of_type(registered, "r2Bucket:R2Bucket")} == {b.name for b in r2}
    lifecycles = {r.inputs["bucketName"]: r for r in of_type(registered, "r2BucketLifecycle:R2BucketLifecycle")}
    locks = {r.inputs["bucketName"]: r for r in of_type(registered, "r2BucketLock:R2BucketLock")}
    for bucket in r2:
        rules = lifecycles[bucket.name].inputs["rules"]
        assert [r["id"] for r in rules] == ["abort-incomplete-multipart"]
        assert rules[0]["abortMultipartUploadsTransition"]["condition"]["maxAge"] == 7 * 86400
        assert "deleteObjectsTransition" not in rules[0], "current objects must never expire"
        assert bucket.lock_days == 0, "R2 lock rules break restic and pgBackRest (R2 lock drill): none on R2"
    assert locks == {}, f"R2BucketLock registered on {sorted(locks)}"
    tokens = of_type(registered, "apiToken:ApiToken")
    assert len(tokens) == 2 * sum(len(b.writers) for b in r2)
    for token in tokens:
        (policy,) = token.inputs["policies"]
        scope = json.loads(policy["resources"])
        assert len(scope) == 1 and next(iter(scope)).startswith("com.cloudflare.edge.r2.bucket."), token.urn
        # f: Item Read, e: Item Write (the harness's permission groups); read tokens get read alone.
        wanted = {"f" * 32} if token.name.endswith("-read-token") else {"f" * 32, "e" * 32}
        assert {g["id"] for g in policy["permissionGroups"]} == wanted, token.urn


def test_storj_bucket_through_the_s3_compatible_provider(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    storj = {b.name: b for b in plan.buckets if b.destination == "storj"}
    found = {r.inputs["bucket"]: r for r in of_type(registered, "s3compatible:Bucket")
             if r.inputs["tags"]["backup.homelab/destination"] == "storj"}
    assert set(found) == set(storj)
    for name, res in found.items():
        assert res.protect
        assert res.inputs["lock_days"] == storj[name].lock_days
        assert res.inputs["endpoint"] == "https://gateway.storjshare.io"


def _admin_values(env: dict[str, str]) -> set[str]:
    """Every admin credential value the stack was given (destination keys, the NAS API key)."""
    return {v for k, v in env.items() if "_WRITER_" not in k and "_READER_" not in k}


def test_no_writer_or_reader_credential_is_an_admin_credential(prod):
    _, exported = prod
    if exported.get("credentials") is None:
        pytest.skip("credentials are unknown in preview")
    admin = _admin_values(PROD_ENV)
    seen: dict[str, str] = {}
    for role in ("credentials", "reader_credentials"):
        for dataset, per_destination in exported[role].items():
            for destination, creds in per_destination.items():
                where = f"{role}.{dataset}.{destination}"
                assert creds["access_key_id"] not in admin and creds["secret_access_key"] not in admin, where
                assert creds["access_key_id"] not in seen, f"{where} reuses {seen.get(creds['access_key_id'])}"
                seen[creds["access_key_id"]] = where
    assert set(exported["credentials"]) == set(exported["reader_credentials"])


def test_minio_gets_a_writer_and_a_read_only_user_per_writer_created_with_the_admin_key(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    users = {r.inputs["user_name"]: r for r in of_type(registered, "minio:User")}
    writers = [(b, w) for b in plan.buckets if b.flavour == "minio" for w in b.writers]
    assert writers and len(users) == 2 * len(writers)
    for bucket, writer in writers:
        for name, access in ((f"{bucket.name}-{writer.key}", "write"), (f"{bucket.name}-{writer.key}-ro", "read")):
            user = users[name[:64]] if len(name) <= 64 else next(u for u in users.values()
                                                               if u.inputs["prefix"] == writer.prefix
                                                               and u.inputs["access"] == access)
            assert user.inputs["access"] == access and user.inputs["prefix"] == writer.prefix, user.urn
            assert user.inputs["bucket"] == bucket.name and user.protect, user.urn
            assert {"credentials", "secret_access_key"} <= set(user.secret_outputs), user.urn


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
