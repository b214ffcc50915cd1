"""components/truenas.py on the prod stack under mocks: snapshot tasks per GFS level, encrypted offsite cloud syncs
with escrowed keys and secret scripts, and a restore drill per tier-1 NAS dataset."""

from __future__ import annotations

import json

from tests.components.harness import PING_KEY, SECRET_SIG, SECRET_SIG_KEY, of_type, stack_plan


def test_nas_task_scripts_are_secret_inputs_and_outputs(prod):
    registered, exported = prod
    tasks = of_type(registered, "truenas:CloudSyncTask")
    assert tasks
    for task in tasks:
        assert {"pre_script", "post_script"} <= set(task.secret_outputs), task.urn
    assert exported["secrets"]["healthchecks_ping_base"] == f"https://hc-ping.com/{PING_KEY}/"
    assert PING_KEY not in json.dumps(exported["runbook"])


def test_truenas_snapshot_task_per_gfs_level_with_valid_naming(prod):
    from providers.truenas.snapshot_tasks import naming_schema_problem

    registered, _ = prod
    plan = stack_plan("prod")
    tasks = of_type(registered, "truenas:SnapshotTask")
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
    syncs = of_type(registered, "truenas:CloudSyncTask")
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
    plan = stack_plan("prod")
    components = {r.name: r.urn for r in of_type(registered, "truenas:TruenasProtection")}
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
