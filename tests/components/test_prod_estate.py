"""The prod stack under mocks: every bucket private, encrypted, lifecycle and lock exactly as planned,
one scoped credential per writer, everything holding backups protected, no secret in the runbook."""

from __future__ import annotations

import json

import pytest

from components.stack_config import load_stack_inventory
from plan import build_plan
from providers.b2 import WRITER_CAPABILITIES
from tests.components.harness import run_estate

PROD_ENV = {
    "HLB_B2_KEY_ID": "prod-b2-admin-id", "HLB_B2_KEY": "SECRET-b2-admin",
    "HLB_STORJ_ACCESS_KEY_ID": "storj-id", "HLB_STORJ_SECRET_ACCESS_KEY": "SECRET-storj",
    "HLB_TRUENAS_API_KEY": "SECRET-truenas-api-key",
    "HLB_NAS_S3_ACCESS_KEY_ID": "nas-s3-id", "HLB_NAS_S3_SECRET_ACCESS_KEY": "SECRET-nas-s3",
}


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def prod(request):
    registered, exported = run_estate("prod", preview=request.param, env=PROD_ENV)
    return registered, exported


def _of(registered, suffix):
    return [r for r in registered if r.typ.endswith(suffix)]


def _plan():
    import pulumi

    from tests.components.harness import stack_config

    pulumi.runtime.set_all_config(stack_config("prod"))
    try:
        return build_plan(load_stack_inventory())
    finally:
        pulumi.runtime.set_all_config({})


def test_b2_buckets_match_the_plan(prod):
    registered, _ = prod
    plan = _plan()
    buckets = {r.inputs["bucket_name"]: r for r in _of(registered, "b2:Bucket")}
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


def test_b2_one_prefix_scoped_key_per_writer_without_management_capabilities(prod):
    registered, _ = prod
    plan = _plan()
    keys = _of(registered, "b2:ApplicationKey")
    writers = [w for b in plan.buckets if b.kind == "b2" for w in b.writers]
    assert len(keys) == len(writers)
    prefixes = sorted(k.inputs["name_prefix"] for k in keys)
    assert prefixes == sorted(w.prefix + "/" for w in writers)
    for key in keys:
        assert key.protect, key.urn
        assert set(key.inputs["capabilities"]) <= set(WRITER_CAPABILITIES), key.urn
        assert not {"writeKeys", "deleteKeys", "deleteBuckets", "writeBuckets"} & set(key.inputs["capabilities"])
        assert "application_key" in key.secret_outputs, key.urn


def test_r2_buckets_lifecycle_no_lock_and_bucket_scoped_tokens(prod):
    registered, _ = prod
    plan = _plan()
    r2 = [b for b in plan.buckets if b.kind == "r2"]
    assert {r.inputs["name"] for r in _of(registered, "r2Bucket:R2Bucket")} == {b.name for b in r2}
    lifecycles = {r.inputs["bucketName"]: r for r in _of(registered, "r2BucketLifecycle:R2BucketLifecycle")}
    locks = {r.inputs["bucketName"]: r for r in _of(registered, "r2BucketLock:R2BucketLock")}
    for bucket in r2:
        rules = lifecycles[bucket.name].inputs["rules"]
        assert [r["id"] for r in rules] == ["abort-incomplete-multipart"]
        assert rules[0]["abortMultipartUploadsTransition"]["condition"]["maxAge"] == 7 * 86400
        assert "deleteObjectsTransition" not in rules[0], "current objects must never expire"
        assert bucket.lock_days == 0, "R2 lock rules break restic and pgBackRest (R2 lock drill): none on R2"
    assert locks == {}, f"R2BucketLock registered on {sorted(locks)}"
    tokens = _of(registered, "apiToken:ApiToken")
    assert len(tokens) == sum(len(b.writers) for b in r2)
    for token in tokens:
        (policy,) = token.inputs["policies"]
        scope = json.loads(policy["resources"])
        assert len(scope) == 1 and next(iter(scope)).startswith("com.cloudflare.edge.r2.bucket."), token.urn
        assert {g["id"] for g in policy["permissionGroups"]} == {"f" * 32, "e" * 32}, token.urn


def test_storj_bucket_through_the_s3_compatible_provider(prod):
    registered, _ = prod
    plan = _plan()
    storj = {b.name: b for b in plan.buckets if b.destination == "storj"}
    found = {r.inputs["bucket"]: r for r in _of(registered, "s3compatible:Bucket")
             if r.inputs["tags"]["backup.homelab/destination"] == "storj"}
    assert set(found) == set(storj)
    for name, res in found.items():
        assert res.protect
        assert res.inputs["lock_days"] == storj[name].lock_days
        assert res.inputs["endpoint"] == "https://gateway.storjshare.io"


def test_volsync_objects_per_pvc_and_destination_parented_to_their_component(prod):
    registered, _ = prod
    plan = _plan()
    components = {r.urn: r for r in _of(registered, "volsync:VolSyncBackup")}
    sources = [r for r in registered if r.typ == "kubernetes:volsync.backube/v1alpha1:ReplicationSource"]
    expected = [(d.name, c.destination) for d in plan.datasets if d.source_kind == "pvc" for c in d.copies]
    assert len(sources) == len(expected)
    for source in sources:
        assert source.parent in components, source.urn
    names = {s.inputs["metadata"]["name"] for s in sources}
    assert len(names) == len(sources), "one ReplicationSource name per PVC x destination"


def test_repository_passwords_are_protected_secrets(prod):
    registered, _ = prod
    secrets = _of(registered, "secrets:GeneratedSecret")
    assert secrets
    for secret in secrets:
        assert secret.protect, secret.urn
        assert "value" in secret.secret_outputs, secret.urn


def test_no_secret_value_reaches_the_runbook_or_rendered_inputs(prod):
    registered, exported = prod
    text = json.dumps(exported["runbook"])
    assert "SECRET-" not in text
    for res in registered:
        if res.typ.startswith("kubernetes:"):
            assert "SECRET-" not in json.dumps(res.inputs, default=str), res.urn


def test_external_secrets_read_from_the_documented_store_items(prod):
    registered, _ = prod
    externals = [r for r in registered if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret"]
    assert externals
    for ext in externals:
        name = ext.inputs["metadata"]["name"]
        for entry in ext.inputs["spec"]["data"]:
            assert entry["remoteRef"]["key"] == f"homelab-backups/{name}", ext.urn


def test_truenas_snapshot_task_per_gfs_level_with_valid_naming(prod):
    from providers.truenas.resources import naming_schema_problem

    registered, _ = prod
    plan = _plan()
    tasks = _of(registered, "truenas:SnapshotTask")
    for dp in plan.datasets:
        if dp.source_kind != "truenas":
            continue
        mine = [t for t in tasks if t.name.startswith(f"{dp.name}-")]
        assert sorted(t.inputs["lifetime_unit"] for t in mine) == sorted(s.lifetime_unit for s in dp.snapshots)
        for task in mine:
            assert naming_schema_problem(task.inputs["naming_schema"]) is None, task.urn
            assert "connection" in task.secret_outputs, task.urn
    assert {t.name for t in tasks} >= {"immich-photos-hourly", "immich-photos-daily", "immich-photos-monthly"}


def test_offsite_cloud_sync_is_always_encrypted_with_escrowed_keys(prod):
    registered, _ = prod
    syncs = _of(registered, "truenas:CloudSyncTask")
    assert syncs
    for sync in syncs:
        assert sync.inputs["offsite"] is True, sync.urn
        assert sync.inputs["encryption"] is True and sync.inputs["filename_encryption"] is True, sync.urn
        assert sync.inputs["direction"] == "PUSH" and sync.inputs["snapshot"] is True, sync.urn
        assert {"encryption_password", "encryption_salt"} <= set(sync.secret_outputs), sync.urn
    tier1 = [s for s in syncs if s.name.startswith("immich-photos-")]
    assert {s.inputs["transfer_mode"] for s in tier1} == {"COPY"}
    assert "/start" in tier1[0].inputs["pre_script"]


def test_every_tier1_nas_dataset_has_a_restore_drill_and_its_secret(prod):
    from manifests import verification

    registered, _ = prod
    plan = _plan()
    components = {r.name: r.urn for r in _of(registered, "truenas:TruenasProtection")}
    jobs = {r.inputs["metadata"]["name"]: r for r in registered if r.typ == "kubernetes:batch/v1:CronJob"}
    externals = {r.inputs["metadata"]["name"]: r for r in registered
                 if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret"}
    tier1 = [dp for dp in plan.datasets if dp.source_kind == "truenas" and dp.tier == 1]
    assert {dp.name for dp in tier1} == {"immich-photos", "nextcloud", "exports"}
    for dp in tier1:
        assert dp.drill_every_days > 0
        first = next(c for c in dp.copies if c.offsite)
        name = f"{dp.name}-{first.destination}-drill"
        job, secret = jobs[name], externals[name]
        labels = job.inputs["metadata"]["labels"]
        assert labels[verification.LABEL_VERIFICATION] == "drill", job.urn
        assert labels["backup.homelab/dataset"] == dp.name and labels["backup.homelab/tier"] == "1", job.urn
        assert job.inputs["metadata"]["namespace"] == secret.inputs["metadata"]["namespace"] == "monitoring"
        assert job.parent == secret.parent == components[dp.name], job.urn
        assert {e["remoteRef"]["property"] for e in secret.inputs["spec"]["data"]} == {
            "encryption_password", "encryption_salt", "access_key_id", "secret_access_key"}, secret.urn
        (container,) = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
        assert refs == {name}, job.urn
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["RCLONE_CONFIG_DRILL_REMOTE"] == f"offsite:{first.bucket}/{first.repository}", job.urn


def test_inventory_can_live_in_a_file(tmp_path, monkeypatch):
    import pulumi
    import yaml

    from tests.components.harness import stack_config

    sections = {k.split(":", 1)[1]: json.loads(v) for k, v in stack_config("prod").items()}
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(sections))
    pulumi.runtime.set_all_config({"homelab-backups:inventory_file": str(inventory)})
    try:
        assert len(load_stack_inventory().datasets) == 17
        pulumi.runtime.set_all_config({"homelab-backups:inventory_file": str(inventory),
                                       "homelab-backups:datasets": "[]"})
        with pytest.raises(pulumi.RunError, match="keep the inventory in one place"):
            load_stack_inventory()
    finally:
        pulumi.runtime.set_all_config({})
