"""manifests/kopiur.py: every Kopiur object fits the upstream CRDs (offline, stricter than the server about unknown
fields), follows the plan, and keeps the cross-layer rules (maintenance within the lock, replicas mirroring)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from inventory import load_inventory
from manifests import kopiur
from plan import build_plan
from plan.cron import Cron
from tests.manifests import crd_schema

RAW: dict[str, Any] = {
    "destinations": [
        {"name": "nas", "kind": "nfs", "server": "citadel.internal", "path": "/mnt/storage0/backups"},
        {"name": "b2", "kind": "b2", "region": "us-east-005"},
        {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"},
        {"name": "minio", "kind": "s3-compatible", "endpoint": "http://127.0.0.1:9000", "flavour": "minio"},
    ],
    "datasets": [
        {"name": "vaultwarden", "tier": 1, "size_gb": 2, "destinations": ["nas", "b2", "r2", "minio"],
         "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                    "storage_class": "ceph-block", "capacity": "5Gi", "mover": "kopiur"}},
        {"name": "grafana", "tier": 2, "size_gb": 1,
         "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                    "capacity": "5Gi", "mover": "kopiur"}},
    ],
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/ping-key/"}},
}


def _plan(offsite_by: str = "replication"):
    raw = copy.deepcopy(RAW)
    raw["datasets"][0]["source"]["offsite_by"] = offsite_by
    inv = load_inventory(raw)
    return inv, build_plan(inv)


INV, PLAN = _plan()
REPLICATED = PLAN.unit("vaultwarden")
LOCAL_ONLY = PLAN.unit("grafana")
_, SNAPSHOTS = _plan("snapshot")
INDEPENDENT = SNAPSHOTS.unit("vaultwarden")


def _objects() -> list[dict[str, Any]]:
    found = []
    for unit in (REPLICATED, LOCAL_ONLY, INDEPENDENT):
        found += kopiur.unit_objects(unit, INV.kubernetes) + kopiur.drill_objects(unit, True)
    return found


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_object_validates(obj: dict[str, Any]) -> None:
    assert crd_schema.validate(obj) == []


def _kinds(unit) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in kopiur.unit_objects(unit, INV.kubernetes)]


def test_replicated_dataset_snapshots_into_the_nas_and_replicates_offsite() -> None:
    assert _kinds(REPLICATED) == [
        ("Repository", "vaultwarden-nas"), ("SnapshotPolicy", "vaultwarden-nas"),
        ("SnapshotSchedule", "vaultwarden-nas"), ("Maintenance", "vaultwarden-nas-maintenance"),
        ("Restore", "vaultwarden-nas-restore"),
        *[(kind, f"vaultwarden-{d}{suffix}") for d in ("b2", "r2", "minio")
          for kind, suffix in (("Repository", ""), ("RepositoryReplication", ""), ("Restore", "-restore"))]]


def test_independent_snapshots_give_every_destination_its_own_policy_and_schedule() -> None:
    kinds = _kinds(INDEPENDENT)
    assert [n for k, n in kinds if k == "SnapshotSchedule"] == [f"vaultwarden-{d}" for d in ("nas", "b2", "r2",
                                                                                               "minio")]
    assert not [n for k, n in kinds if k == "RepositoryReplication"]


def test_schedule_is_the_planned_time_and_policy_the_tier_retention() -> None:
    nas = REPLICATED.copies[0]
    schedule = kopiur.snapshot_schedule(REPLICATED, nas)
    assert schedule["spec"]["schedule"] == {"cron": nas.schedule.five_field(), "timezone": "Etc/UTC",
                                            "concurrencyPolicy": "Forbid"}
    policy = kopiur.snapshot_policy(REPLICATED, nas, INV.kubernetes)["spec"]
    assert policy["retention"] == {"keepLatest": 1, "keepHourly": 48, "keepDaily": 30, "keepWeekly": 0,
                                   "keepMonthly": 12, "keepAnnual": 0}
    assert policy["sources"] == [{"pvc": {"name": "vaultwarden-data"}}]
    assert policy["compression"] == {"compressor": "zstd"}
    assert policy["mover"]["podSecurityContext"]["runAsUser"] == 1000
    assert policy["verification"]["quick"]["schedule"]["cron"] == REPLICATED.checks[0].schedule.five_field()
    assert "deep" in policy["verification"]


def test_replication_runs_on_the_offsite_cadence_with_the_replica_key() -> None:
    b2 = REPLICATED.copies[1]
    spec = kopiur.replication(REPLICATED, b2)["spec"]
    assert spec["sourceRef"] == {"kind": "Repository", "name": "vaultwarden-nas"}
    assert spec["schedule"]["cron"] == b2.schedule.five_field()
    assert b2.schedule.interval_hours == 24
    assert spec["destination"]["s3"] == {
        "bucket": "hlb-b2-tier1", "prefix": "kopiur/vaultwarden/vaultwarden-data/",
        "endpoint": "s3.us-east-005.backblazeb2.com", "region": "us-east-005",
        "auth": {"secretRef": {"name": "vaultwarden-b2-repo"}}}
    assert spec["sync"]["deleteExtra"] is True


def test_a_plain_http_destination_disables_tls_for_kopia() -> None:
    minio = next(c for c in REPLICATED.copies if c.destination == "minio")
    assert kopiur.backend(REPLICATED, minio)["s3"]["tls"] == {"disableTls": True}


def test_nas_repository_mounts_its_own_folder_of_the_export() -> None:
    spec = kopiur.repository(REPLICATED, REPLICATED.copies[0])["spec"]
    folder = "/mnt/storage0/backups/hlb-nas-tier1/kopiur/vaultwarden/vaultwarden-data"
    assert spec["backend"] == {"filesystem": {"path": "/repository", "volume": {"nfs": {
        "server": "citadel.internal", "path": folder}}}}
    assert spec["maintenance"] == {"enabled": False}
    assert "parameters" not in spec  # the NAS copy is not locked


def test_replica_repositories_are_read_only_and_never_maintained() -> None:
    for replica in REPLICATED.copies[1:]:
        spec = kopiur.repository(REPLICATED, replica)["spec"]
        assert spec["mode"] == "ReadOnly" and "create" not in spec
        with pytest.raises(ValueError, match="no maintenance"):
            kopiur.maintenance(REPLICATED, replica)
        with pytest.raises(ValueError, match="not by a SnapshotPolicy"):
            kopiur.snapshot_policy(REPLICATED, replica, INV.kubernetes)


def test_locked_repositories_carry_kopia_blob_retention_of_the_lock() -> None:
    b2 = next(c for c in INDEPENDENT.copies if c.destination == "b2")
    assert b2.lock_days == 14
    spec = kopiur.repository(INDEPENDENT, b2)["spec"]
    assert spec["parameters"] == {"blobRetention": {"governance": {"period": "336h"}}}


def test_maintenance_is_daily_and_refused_when_it_would_outlive_the_lock() -> None:
    b2 = next(c for c in INDEPENDENT.copies if c.destination == "b2")
    spec = kopiur.maintenance(INDEPENDENT, b2)["spec"]
    assert spec["schedule"]["full"]["cron"].count(" ") == 4
    assert spec["repository"] == {"kind": "Repository", "name": "vaultwarden-b2"}
    weekly = Cron(60, 24, weekday=0)
    with pytest.raises(ValueError, match="every 168 h exceeds the 7-day lock minus one day"):
        kopiur.maintenance(INDEPENDENT, replace(b2, lock_days=7), weekly)


def test_restores_are_passive_populators_and_replicas_read_their_own_repository() -> None:
    nas, b2 = REPLICATED.copies[:2]
    assert kopiur.restore(REPLICATED, nas)["spec"]["target"] == {"populator": {}}
    replica = kopiur.restore(REPLICATED, b2)["spec"]
    assert replica["repository"] == {"kind": "Repository", "name": "vaultwarden-b2"}
    assert replica["source"] == {"fromPolicy": {"name": "vaultwarden-nas"}}
    assert kopiur.data_source_ref(REPLICATED, b2) == {
        "apiGroup": "kopiur.home-operations.com", "kind": "Restore", "name": "vaultwarden-b2-restore"}


def test_secrets_hold_the_password_and_on_object_storage_the_writer_key() -> None:
    nas, b2 = REPLICATED.copies[:2]
    assert {k: v.name for k, v in kopiur.repository_secret(REPLICATED, nas).refs().items()} == {
        "KOPIA_PASSWORD": "repository_password"}
    assert set(kopiur.repository_secret(REPLICATED, b2).refs()) == {
        "KOPIA_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_the_drill_replaces_its_restore_into_the_scratch_claim_then_checks_it() -> None:
    objects = kopiur.drill_objects(REPLICATED, True)
    assert [o["kind"] for o in objects] == ["PersistentVolumeClaim", "ServiceAccount", "Role", "RoleBinding",
                                            "CronJob", "CronJob"]
    trigger, check = objects[4], objects[5]
    job = REPLICATED.drill
    assert trigger["spec"]["schedule"] == job.restore_at.five_field()
    assert check["spec"]["schedule"] == job.schedule.five_field()
    env = {e["name"]: e.get("value") for e in trigger["spec"]["jobTemplate"]["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
    restore = json.loads(env["RESTORE_OBJECT"])
    assert restore["spec"]["target"] == {"pvcRef": {"name": job.scratch}}
    assert restore["spec"]["options"] == {"enableFileDeletion": True}
    assert crd_schema.validate(restore) == []
    role = objects[2]
    assert role["rules"][0]["resourceNames"] == [job.scratch]
    assert kopiur.drill_objects(LOCAL_ONLY, True) == []  # tier 2 has no drill


def test_other_movers_are_refused() -> None:
    restic = replace(REPLICATED.copies[0], tool="restic")
    with pytest.raises(ValueError, match="is not a Kopiur copy"):
        kopiur.repository(REPLICATED, restic)


def test_tier_one_alerts_cover_never_ran_and_older_than_rpo_per_copy() -> None:
    rules = kopiur.alert_rules(REPLICATED, ("out-of-sync", "missed-run", "never-ran"), "critical", "see runbook")
    nas = REPLICATED.copies[0]
    by_alert = {(r["alert"], r["labels"]["destination"]): r for r in rules}
    never = by_alert[("KopiurSnapshotNeverSucceeded", "nas")]
    assert never["expr"] == ('absent(kopiur_snapshot_last_success_timestamp_seconds{namespace="vaultwarden", '
                             'name="vaultwarden-nas"})')
    assert never["for"] == f"{2 * nas.schedule.interval_hours}h"
    late = by_alert[("KopiurSnapshotOlderThanRpo", "nas")]
    assert late["expr"].endswith(f"> {(nas.schedule.interval_hours + 1) * 3600}")
    assert late["labels"] == {"severity": "critical", "dataset": "vaultwarden", "tier": "1",
                              "backup_alert": "missed-run", "destination": "nas"}
    assert ("KopiurVerificationLate", "nas") in by_alert
    for replica in ("b2", "r2", "minio"):
        assert by_alert[("KopiurReplicationFailed", replica)]["expr"] == (
            f'kopiur_resource_phase{{kind="RepositoryReplication", namespace="vaultwarden", '
            f'name="vaultwarden-{replica}", phase="Failed"}} == 1')
    assert {r["labels"]["backup_alert"] for r in rules} == {"out-of-sync", "missed-run", "never-ran"}


def test_a_tier_asking_only_for_out_of_sync_gets_only_that() -> None:
    rules = kopiur.alert_rules(LOCAL_ONLY, ("out-of-sync",), "warning", "see runbook")
    assert [r["alert"] for r in rules] == ["KopiurSnapshotFailing"]


def test_prometheus_rules_route_kopiur_datasets_to_kopiur_metrics() -> None:
    from manifests.alerts import prometheus_rules

    (tier1,) = [r for r in prometheus_rules([REPLICATED], "monitoring")]
    groups = {g["name"]: g["rules"] for g in tier1["spec"]["groups"]}
    assert "homelab-backups.volsync-controller" not in groups
    assert groups["homelab-backups.kopiur-controller"][0]["expr"] == "absent(kopiur_controller_reconciliations_total)"
    assert not any("volsync" in r["expr"] for r in groups["homelab-backups.vaultwarden"])
    assert crd_schema.validate(tier1) == []
