"""VolSync builders: schema-valid objects, one repository per PVC x destination, the settings each mover needs."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inventory.models import Kubernetes
from inventory.tiers import Retention
from manifests import volsync
from manifests.secrets import ACCESS_KEY_ID, REPOSITORY_PASSWORD, SECRET_ACCESS_KEY
from plan.cron import Cron
from plan.model import CopyPlan
from plan.repositories import repository_dir
from plan.units import DRILL_CHECK_DELAY_MINUTES
from tests.manifests import crd_schema, estate

VOLSYNC_KINDS = {"ReplicationSource", "ReplicationDestination", "KopiaMaintenance"}


def _copies(mover: str | None = None) -> list[tuple[Any, Any, CopyPlan]]:
    found = []
    for ds, dp in estate.pairs():
        if ds.source.kind == "pvc" and (mover is None or ds.source.mover == mover):
            found += [(ds, dp, copy) for copy in dp.copies]
    return found


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("obj", estate.rendered().volsync, ids=_name)
def test_every_object_validates(obj: dict[str, Any]) -> None:
    assert crd_schema.validate(obj) == []


def test_restic_objects_fit_upstream_and_the_fork_kopia_only_the_fork() -> None:
    for obj in estate.rendered().volsync:
        if obj["kind"] not in VOLSYNC_KINDS:
            continue
        sources = [label for label, _ in crd_schema.schemas_for(obj)]
        if "restic" in obj["spec"]:
            assert len(sources) == 2 and sources[0].startswith("volsync/")
        else:
            assert all(s.startswith("volsync-kopia/") for s in sources)


def test_the_estate_covers_both_movers_nfs_and_object_storage() -> None:
    kinds = {(ds.source.mover, copy.kind) for ds, _, copy in _copies()}
    assert {("restic", "nfs"), ("restic", "b2"), ("restic", "r2"), ("kopia", "nfs"), ("kopia", "b2"),
            ("kopia", "s3-compatible")} <= kinds


@pytest.mark.parametrize(("ds", "dp", "copy"), _copies(), ids=lambda v: getattr(v, "key", ""))
def test_replication_source_follows_the_plan(ds: Any, dp: Any, copy: CopyPlan) -> None:
    source = volsync.replication_source(ds, copy, estate.inventory().kubernetes)
    spec = source["spec"]
    mover = spec[ds.source.mover]
    assert source["metadata"]["name"] == volsync.source_name(ds, copy)
    assert spec["sourcePVC"] == ds.source.claim
    schedule = spec["trigger"]["schedule"]
    assert schedule == copy.schedule.five_field() and len(schedule.split()) == 5
    assert mover["copyMethod"] == ds.source.copy_method
    assert mover["repository"] == volsync.repository_secret_name(ds, copy)
    assert mover["cacheCapacity"] == ds.source.cache_capacity
    assert mover["moverSecurityContext"] == {
        "runAsUser": ds.source.run_as_user, "runAsGroup": ds.source.run_as_group,
        "fsGroup": ds.source.run_as_group, "runAsNonRoot": True,
    }
    other_mover = next(m for m in volsync.MOVERS if m != ds.source.mover)
    assert other_mover not in spec


def test_snapshot_class_comes_from_the_source_then_the_cluster_default() -> None:
    kube = estate.inventory().kubernetes
    by_name = {o["metadata"]["name"]: o for o in estate.rendered().volsync if o["kind"] == "ReplicationSource"}
    assert by_name["paperless-b2"]["spec"]["kopia"]["volumeSnapshotClassName"] == "csi-rbd-snapclass"
    assert by_name["vaultwarden-b2"]["spec"]["restic"]["volumeSnapshotClassName"] == kube.volume_snapshot_class
    clone = next(o for n, o in by_name.items() if n.startswith("home-assistant"))
    assert clone["spec"]["restic"]["copyMethod"] == "Clone"
    assert "volumeSnapshotClassName" not in clone["spec"]["restic"]
    ds, _, copy = _copies("restic")[0]
    bare = volsync.replication_source(ds, copy, Kubernetes())
    assert "volumeSnapshotClassName" not in bare["spec"]["restic"]


def test_restic_retention_and_prune_interval() -> None:
    for ds, _, copy in _copies("restic"):
        restic = volsync.replication_source(ds, copy, Kubernetes())["spec"]["restic"]
        assert restic["retain"] == copy.retention.levels()
        assert 1 <= restic["pruneIntervalDays"] <= volsync.MAX_PRUNE_INTERVAL_DAYS


@pytest.mark.parametrize(
    ("retention", "days"),
    [(Retention(hourly=48, daily=30), 1), (Retention(daily=7), 3), (Retention(daily=14, weekly=4), 7),
     (Retention(daily=30, monthly=12), 7), (Retention(hourly=24), 1)],
)
def test_prune_interval_is_half_the_shortest_window_capped_at_a_week(retention: Retention, days: int) -> None:
    assert volsync.prune_interval_days(retention) == days


def test_kopia_retention_pins_every_level_and_uses_latest() -> None:
    for ds, _, copy in _copies("kopia"):
        retain = volsync.replication_source(ds, copy, Kubernetes())["spec"]["kopia"]["retain"]
        assert set(retain) == {"hourly", "daily", "weekly", "monthly", "yearly", "latest"}
        assert {k: v for k, v in retain.items() if v and k != "latest"} == copy.retention.levels()
        assert retain["latest"] == volsync.KOPIA_KEEP_LATEST
        assert "pruneIntervalDays" not in volsync.replication_source(ds, copy, Kubernetes())["spec"]["kopia"]


def test_one_repository_per_pvc_and_destination() -> None:
    secrets = {
        spec.name: spec for spec in estate.rendered().secrets
        if {"RESTIC_REPOSITORY", "KOPIA_REPOSITORY"} & set(spec.data)
    }
    copies = _copies()
    assert len(secrets) == len(copies)
    locations = set()
    for ds, _, copy in copies:
        spec = secrets[volsync.repository_secret_name(ds, copy)]
        url = spec.data.get("RESTIC_REPOSITORY") or spec.data.get("KOPIA_REPOSITORY")
        endpoint = spec.data.get("KOPIA_S3_ENDPOINT", "")
        locations.add((endpoint, url))
        assert copy.repository in str(url) and copy.bucket in str(url)
    assert len(locations) == len(copies)


@pytest.mark.parametrize(("ds", "dp", "copy"), _copies(), ids=lambda v: getattr(v, "key", ""))
def test_repository_secret_has_the_keys_its_mover_requires(ds: Any, dp: Any, copy: CopyPlan) -> None:
    data = volsync.repository_secret(ds, copy).data
    nfs = copy.kind == "nfs"
    if ds.source.mover == "restic":
        assert data["RESTIC_PASSWORD"] == REPOSITORY_PASSWORD
        expected = repository_dir(copy) if nfs else f"s3:{copy.endpoint}/{copy.bucket}/{copy.repository}"
        assert data["RESTIC_REPOSITORY"] == expected
        if not nfs:
            assert data["AWS_DEFAULT_REGION"] == copy.region
    else:
        assert data["KOPIA_PASSWORD"] == REPOSITORY_PASSWORD
        if nfs:
            assert data["KOPIA_REPOSITORY"] == "filesystem://" + repository_dir(copy)
        else:
            assert data["KOPIA_REPOSITORY"] == f"s3://{copy.bucket}/{copy.repository}"
            assert "://" not in str(data["KOPIA_S3_ENDPOINT"])
            assert data["AWS_REGION"] == copy.region
            assert ("KOPIA_S3_DISABLE_TLS" in data) == copy.endpoint.startswith("http://")
    if nfs:
        assert not any(k.startswith("AWS_") for k in data)
    else:
        assert data["AWS_ACCESS_KEY_ID"] == ACCESS_KEY_ID and data["AWS_SECRET_ACCESS_KEY"] == SECRET_ACCESS_KEY
    checksum = {"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"}
    if copy.checksum_env:
        assert all(data[k] == "when_required" for k in checksum)
    else:
        assert not checksum & set(data)


def test_plain_http_minio_for_kopia() -> None:
    ds, _, copy = next(c for c in _copies("kopia") if c[2].kind == "s3-compatible")
    data = volsync.repository_secret(ds, copy).data
    assert data["KOPIA_S3_ENDPOINT"] == "minio.storage.svc:9000"
    assert data["KOPIA_S3_DISABLE_TLS"] == "true"


def test_nfs_copies_mount_the_export_and_use_a_filesystem_repository() -> None:
    for ds, _, copy in _copies():
        spec = volsync.replication_source(ds, copy, Kubernetes())["spec"][ds.source.mover]
        if copy.kind != "nfs":
            assert "moverVolumes" not in spec
            continue
        assert spec["moverVolumes"] == [{
            "mountPath": copy.destination,
            "volumeSource": {"nfs": {"server": estate.NAS, "path": "/mnt/storage0/backups"}},
        }]
        repo_dir = repository_dir(copy)
        assert repo_dir.startswith(f"/mnt/{copy.destination}/") and repo_dir.endswith(copy.repository)


def test_bad_nfs_endpoint_is_refused() -> None:
    ds, _, copy = next(c for c in _copies("restic") if c[2].kind == "nfs")
    with pytest.raises(ValueError, match="not nfs://server/path"):
        volsync.replication_source(ds, replace(copy, endpoint="citadel:/mnt/x"), Kubernetes())


def test_copies_of_other_datasets_or_movers_are_refused() -> None:
    (ds, _, copy), (_, _, other_copy) = _copies("restic")[0], _copies("kopia")[0]
    with pytest.raises(ValueError, match="belongs to"):
        volsync.replication_source(ds, other_copy, Kubernetes())
    with pytest.raises(ValueError, match="differs from the source mover"):
        volsync.repository_secret(ds, replace(copy, tool="kopia"))
    postgres, pg_plan = estate.dataset("immich-db")
    with pytest.raises(TypeError, match="pvc datasets"):
        volsync.replication_source(postgres, pg_plan.copies[0], Kubernetes())


def test_kopia_maintenance_per_repository_honours_the_lock() -> None:
    maintenances = [o for o in estate.rendered().volsync if o["kind"] == "KopiaMaintenance"]
    assert len(maintenances) == len(_copies("kopia"))
    locked = [(ds, copy) for ds, _, copy in _copies("kopia") if copy.lock_days]
    assert locked, "the estate needs a locked kopia repository"
    for ds, copy in locked:
        cron = ds.copy_objects(copy.destination).maintenance
        assert cron.interval_hours <= (copy.lock_days - 1) * 24
        rendered = volsync.kopia_maintenance(ds, copy)
        assert rendered["spec"]["trigger"]["schedule"] == cron.five_field()
        assert rendered["spec"]["repository"] == {"repository": volsync.repository_secret_name(ds, copy)}
    ds, copy = locked[0]
    assert crd_schema.validate(volsync.kopia_maintenance(ds, replace(copy, lock_days=2))) == []
    with pytest.raises(ValueError, match="exceeds the 1-day lock"):
        volsync.kopia_maintenance(ds, replace(copy, lock_days=1))
    with pytest.raises(ValueError, match="exceeds the 7-day lock"):
        volsync.kopia_maintenance(ds, replace(copy, lock_days=7), schedule=Cron(120, weekday=0))


def test_kopia_maintenance_of_nfs_repository_mounts_the_export() -> None:
    ds, _, copy = next(c for c in _copies("kopia") if c[2].kind == "nfs")
    spec = volsync.kopia_maintenance(ds, copy)["spec"]
    assert spec["moverVolumes"][0]["volumeSource"]["nfs"]["server"] == estate.NAS
    assert spec["podSecurityContext"]["runAsUser"] == ds.source.run_as_user


def test_maintenance_is_refused_for_restic() -> None:
    ds, _, copy = _copies("restic")[0]
    with pytest.raises(ValueError, match="differs from the source mover|only applies to kopia"):
        volsync.kopia_maintenance(ds, copy)


@pytest.mark.parametrize(("ds", "dp", "copy"), _copies(), ids=lambda v: getattr(v, "key", ""))
def test_restore_is_manual_direct_into_the_claim_and_paused(ds: Any, dp: Any, copy: CopyPlan) -> None:
    restore = volsync.replication_destination_restore(ds, copy)
    spec = restore["spec"]
    mover = spec[ds.source.mover]
    assert spec["paused"] is True and spec["trigger"] == {"manual": "restore-once"}
    assert mover["destinationPVC"] == ds.source.claim and mover["copyMethod"] == "Direct"
    assert mover["repository"] == volsync.repository_secret_name(ds, copy)
    if ds.source.mover == "kopia":
        assert mover["sourceIdentity"] == {
            "sourceName": volsync.source_name(ds, copy), "sourceNamespace": ds.source.namespace,
            "sourcePVCName": ds.source.claim,
        }
    armed = volsync.replication_destination_restore(ds, copy, trigger="restore-2", armed=True)
    assert armed["spec"]["paused"] is False and armed["spec"]["trigger"] == {"manual": "restore-2"}
    assert crd_schema.validate(armed) == []


def _drilled() -> list[tuple[Any, Any, CopyPlan]]:
    """The one drilled copy of every PVC dataset with drills (the plan picks the first, local when there is one)."""
    return [c for c in _copies() if c[0].drill is not None and c[0].drill.destination == c[2].destination]


def test_drills_follow_the_tier_cadence() -> None:
    drilled = _drilled()
    assert drilled and all(dp.tier == 1 for _, dp, _ in drilled)
    untouched = {ds.name for ds, dp, _ in _copies() if not dp.drill_every_days}
    assert not any(o["metadata"]["labels"]["backup.homelab/dataset"] in untouched and "drill" in o["metadata"]["name"]
                   for o in estate.rendered().volsync)


@pytest.mark.parametrize(("ds", "dp", "copy"), _drilled(), ids=lambda v: getattr(v, "key", ""))
def test_drill_objects(ds: Any, dp: Any, copy: CopyPlan) -> None:
    assert copy == dp.copies[0]
    pvc, destination, check = volsync.drill_objects(ds, estate.PINGS)
    for obj in (pvc, destination, check):
        assert crd_schema.validate(obj) == []
    name = f"{ds.name}-{copy.destination}-drill"
    assert pvc["spec"]["resources"]["requests"]["storage"] == ds.source.capacity
    assert pvc["spec"]["storageClassName"] == ds.source.storage_class
    mover = destination["spec"][ds.source.mover]
    assert mover["destinationPVC"] == name and mover["copyMethod"] == "Direct" and mover["enableFileDeletion"]
    restore_cron = destination["spec"]["trigger"]["schedule"]
    minute, hour, dom, month, dow = restore_cron.split()
    assert dp.drill_every_days >= 28 and 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
    check_cron = check["spec"]["schedule"].split()
    delay = (int(check_cron[1]) * 60 + int(check_cron[0])) - (int(hour) * 60 + int(minute))
    assert delay % (24 * 60) == DRILL_CHECK_DELAY_MINUTES
    assert int(check_cron[2]) == int(dom) + (1 if delay < 0 else 0)
    pod = check["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][-1] == {"name": "restored", "persistentVolumeClaim": {"claimName": name, "readOnly": True}}
    container = pod["containers"][0]
    assert {"name": "restored", "mountPath": "/restored", "readOnly": True} in container["volumeMounts"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["resources"]["limits"] and container["securityContext"]["readOnlyRootFilesystem"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["HC_URL"] == estate.ping_ref(ds.name, f"{copy.healthcheck_slug}-drill")


def test_drill_without_healthchecks_only_exits_nonzero() -> None:
    ds, dp, copy = _drilled()[0]
    check = volsync.drill_objects(ds, None)[2]
    env = {e["name"] for e in check["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "HC_URL" not in env


def test_drill_cadence_maps_to_day_of_month_weekday_or_daily() -> None:
    ds, dp, _ = _drilled()[0]

    def restore(days: int) -> str:
        return volsync.drill_objects(estate.unit(ds.name, replace(dp, drill_every_days=days)), None)[1][
            "spec"]["trigger"]["schedule"]

    monthly, weekly, daily = restore(30), restore(7), restore(1)
    assert monthly.split()[2] != "*" and monthly.split()[4] == "*"
    assert weekly.split()[2] == "*" and weekly.split()[4] in {str(d) for d in range(7)}
    assert daily.split()[2:] == ["*", "*", "*"]
    assert volsync.drill_objects(estate.unit(ds.name, replace(dp, drill_every_days=0)), None) == []


def _run_check(tmp_path: Path, restored: Path, hc_log: Path) -> subprocess.CompletedProcess[str]:
    ds, dp, copy = _drilled()[0]
    check = volsync.drill_objects(ds, True)[2]
    script = check["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2]
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    curl = fake_bin / "curl"
    curl.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {hc_log}\n')
    curl.chmod(0o755)
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}", "WINDOW_MINUTES": "300", "HC_URL": "http://hc/x"}
    return subprocess.run(["/bin/sh", "-c", script.replace("/restored", str(restored))], env=env,
                          capture_output=True, text=True, check=False)


def test_drill_check_script_passes_fresh_restores_and_fails_empty_claims(tmp_path: Path) -> None:
    restored = tmp_path / "restored"
    restored.mkdir()
    log = tmp_path / "hc.log"
    empty = _run_check(tmp_path, restored, log)
    assert empty.returncode == 1 and "drill failed: 0 entries" in empty.stderr
    (restored / "db.sqlite3").write_text("data")
    fresh = _run_check(tmp_path, restored, log)
    assert fresh.returncode == 0, fresh.stderr
    assert log.read_text().splitlines() == ["http://hc/x/fail", "http://hc/x"]
    assert time.time() - restored.stat().st_ctime < 300 * 60


@pytest.mark.parametrize("name", ["vaultwarden", "paperless"])
def test_a_private_ca_reaches_every_mover_of_the_copy_through_custom_ca(name: str) -> None:
    ds, dp = estate.dataset(name)
    copy = replace(next(c for c in dp.copies if c.kind != "nfs"), private_ca=True)
    mover = ds.source.mover
    wanted = {"configMapName": f"hlb-ca-{copy.destination}", "key": "ca.crt"}
    source = volsync.replication_source(ds, copy, estate.inventory().kubernetes)
    restore = volsync.replication_destination_restore(ds, copy)
    for obj in (source, restore):
        assert obj["spec"][mover]["customCA"] == wanted, obj["kind"]
        assert crd_schema.validate(obj) == [], obj["kind"]
    config_map = volsync.ca_config_map(ds.source.namespace, copy, "-----BEGIN CERTIFICATE-----\n")
    assert config_map["metadata"] == {"name": wanted["configMapName"], "namespace": ds.source.namespace,
                                      "labels": {"app.kubernetes.io/managed-by": "homelab-backups",
                                                 "backup.homelab/destination": copy.destination}}
    assert config_map["data"] == {"ca.crt": "-----BEGIN CERTIFICATE-----\n"}
    plain = volsync.replication_source(ds, replace(copy, private_ca=False), estate.inventory().kubernetes)
    assert "customCA" not in plain["spec"][mover]
