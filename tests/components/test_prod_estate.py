"""The prod stack under mocks: every bucket private, encrypted, lifecycle and lock exactly as planned,
one scoped credential per writer, everything holding backups protected, no secret in the runbook."""

from __future__ import annotations

import json

import pytest

from providers.b2 import MANAGEMENT_CAPABILITIES, READER_CAPABILITIES, WRITER_CAPABILITIES
from stack.config import load_stack_inventory
from tests.components.harness import PROD_ENV, run_estate, stack_plan

PING_KEY = PROD_ENV["HLB_HEALTHCHECKS_PING_KEY"]
SECRET_SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
"""How the engine marks a secret value on the wire (pulumi.runtime.rpc)."""


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def prod(request):
    registered, exported = run_estate("prod", preview=request.param, env=PROD_ENV)
    return registered, exported


def _of(registered, suffix):
    return [r for r in registered if r.typ.endswith(suffix)]


def _plan():
    return stack_plan("prod")


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


def test_b2_a_prefix_scoped_writer_key_and_read_only_key_per_writer_without_management_capabilities(prod):
    registered, _ = prod
    plan = _plan()
    keys = _of(registered, "b2:ApplicationKey")
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
        if name.endswith("-healthchecks"):
            # Every ping Secret reads the one ping key, stored once (README: Healthchecks).
            assert ext.inputs["spec"]["data"] == [{"secretKey": "ping_key", "remoteRef": {
                "key": "homelab-backups/healthchecks", "property": "ping_key"}}], ext.urn
            continue
        for entry in ext.inputs["spec"]["data"]:
            assert entry["remoteRef"]["key"] == f"homelab-backups/{name}", ext.urn


def test_jobs_read_their_ping_url_from_a_declared_secret(prod):
    registered, _ = prod
    externals = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r for r in registered
                 if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret"}
    pinged = 0
    for job in _of(registered, "batch/v1:CronJob"):
        pod = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for entry in (e for c in pod["containers"] for e in c["env"] if e["name"] == "HC_URL"):
            assert "value" not in entry, job.urn
            ref = entry["valueFrom"]["secretKeyRef"]
            ext = externals[(job.inputs["metadata"]["namespace"], ref["name"])]
            template = ext.inputs["spec"]["target"]["template"]["data"][ref["key"]]
            assert template == "https://hc-ping.com/{{ .ping_key }}/" + ref["key"], job.urn
            pinged += 1
    assert pinged >= 5


def test_nas_task_scripts_are_secret_inputs_and_outputs(prod):
    registered, exported = prod
    tasks = _of(registered, "truenas:CloudSyncTask")
    assert tasks
    for task in tasks:
        assert {"pre_script", "post_script"} <= set(task.secret_outputs), task.urn
    assert exported["secrets"]["healthchecks_ping_base"] == f"https://hc-ping.com/{PING_KEY}/"
    assert PING_KEY not in json.dumps(exported["runbook"])


def test_truenas_snapshot_task_per_gfs_level_with_valid_naming(prod):
    from providers.truenas.snapshot_tasks import naming_schema_problem

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
    for script in ("pre_script", "post_script"):
        # A secret input (the engine's secret envelope): the script carries the ping URL, so the ping key.
        wrapped = tier1[0].inputs[script]
        assert wrapped.get(SECRET_SIG_KEY) == SECRET_SIG, tier1[0].urn
        assert f"https://hc-ping.com/{PING_KEY}/backup-" in wrapped["value"]
    assert tier1[0].inputs["pre_script"]["value"].rstrip().endswith("/start || true")


def test_every_tier1_nas_dataset_has_a_restore_drill_and_its_secret(prod):
    from plan import names

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
        assert labels[names.LABEL_VERIFICATION] == "drill", job.urn
        assert labels["backup.homelab/dataset"] == dp.name and labels["backup.homelab/tier"] == "1", job.urn
        assert job.inputs["metadata"]["namespace"] == secret.inputs["metadata"]["namespace"] == "monitoring"
        assert job.parent == secret.parent == components[dp.name], job.urn
        assert {e["remoteRef"]["property"] for e in secret.inputs["spec"]["data"]} == {
            "encryption_password", "encryption_salt", "reader_access_key_id", "reader_secret_access_key"}, secret.urn
        (container,) = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
        assert refs == {name, f"{dp.name}-healthchecks"}, job.urn
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
    plan = _plan()
    users = {r.inputs["user_name"]: r for r in _of(registered, "minio:User")}
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


def test_a_supplied_writer_key_that_is_the_admin_key_is_refused_by_name(monkeypatch):
    import pulumi

    from stack.naming import identity_env

    plan = _plan()
    writer = next(w for b in plan.buckets if b.destination == "storj" for w in b.writers)
    admin_id = PROD_ENV["HLB_STORJ_ACCESS_KEY_ID"]
    env = {**PROD_ENV, identity_env("storj", "writer", writer.key, "access_key_id"): admin_id}
    with pytest.raises(pulumi.RunError) as refused:
        run_estate("prod", env=env)
    message = str(refused.value)
    assert f"credentials.storj.writers.{writer.key}.access_key_id is the admin key of 'storj'" in message
    assert "SECRET" not in message and PROD_ENV["HLB_STORJ_ACCESS_KEY_ID"] not in message


def test_a_missing_supplied_key_names_the_config_path_and_the_variable():
    import pulumi

    with pytest.raises(pulumi.RunError) as missing:
        run_estate("prod", env=PROD_ENV, supply_identities=False)
    message = str(missing.value)
    assert "credentials.storj.writers." in message and "HLB_STORJ_WRITER_" in message


def _with_storj_ca(path) -> dict[str, str]:
    from tests.components.harness import stack_config

    config = stack_config("prod")
    destinations = json.loads(config["homelab-backups:destinations"])
    for dest in destinations:
        if dest["name"] == "storj":
            dest["ca_file"] = str(path)
    config["homelab-backups:destinations"] = json.dumps(destinations)
    # In the example estate only NAS datasets copy to Storj; give a PVC a copy there too.
    datasets = json.loads(config["homelab-backups:datasets"])
    for ds in datasets:
        if ds["name"] == "vaultwarden":
            ds["destinations"] = ["nas", "b2", "r2", "storj"]
    config["homelab-backups:datasets"] = json.dumps(datasets)
    return config


def test_a_private_ca_reaches_the_movers_of_every_pvc_copy_to_that_destination(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    registered, _ = run_estate("prod", config=_with_storj_ca(bundle), env=PROD_ENV)
    maps = [r for r in registered if r.typ == "kubernetes:core/v1:ConfigMap"]
    sources = [r for r in registered if r.typ == "kubernetes:volsync.backube/v1alpha1:ReplicationSource"
               and r.inputs["metadata"]["labels"]["backup.homelab/destination"] == "storj"]
    assert sources and len(maps) == len(sources)
    namespaces = {m.inputs["metadata"]["namespace"] for m in maps}
    assert namespaces == {s.inputs["metadata"]["namespace"] for s in sources}
    for config_map in maps:
        assert config_map.inputs["data"] == {"ca.crt": bundle.read_text()}, config_map.urn
    for source in sources:
        mover = next(k for k in ("restic", "kopia") if k in source.inputs["spec"])
        assert source.inputs["spec"][mover]["customCA"] == {"configMapName": "hlb-ca-storj", "key": "ca.crt"}


def test_an_unreadable_ca_file_is_refused_by_field(tmp_path):
    import pulumi

    with pytest.raises(pulumi.RunError, match=r"destinations\['storj'\]\.ca_file .* cannot be read"):
        run_estate("prod", config=_with_storj_ca(tmp_path / "missing.pem"), env=PROD_ENV)
