"""PrometheusRules: one per alerting tier, only the kinds each tier lists, the right metric families."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from manifests import alerts, volsync
from tests.manifests import crd_schema, estate


def _rules_by_tier() -> dict[str, dict[str, Any]]:
    return {r["metadata"]["labels"]["backup.homelab/tier"]: r for r in estate.rendered().alerts}


def _alerts(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for group in rule["spec"]["groups"] for a in group["rules"]]


def _by_dataset(name: str) -> list[dict[str, Any]]:
    return [a for r in estate.rendered().alerts for a in _alerts(r) if a["labels"]["dataset"] == name]


@pytest.mark.parametrize("rule", estate.rendered().alerts, ids=lambda r: r["metadata"]["name"])
def test_every_rule_validates(rule: dict[str, Any]) -> None:
    assert crd_schema.validate(rule) == []


def test_one_rule_per_alerting_tier() -> None:
    by_tier = _rules_by_tier()
    assert set(by_tier) == {"1", "2"}, "tier 3 lists no alert kinds"
    assert {r["metadata"]["namespace"] for r in by_tier.values()} == {estate.ALERT_NAMESPACE}
    assert by_tier["1"]["metadata"]["name"] == "homelab-backups-tier1"


def test_only_listed_alert_kinds_are_raised() -> None:
    for ds, dp in estate.pairs():
        kinds = {a["labels"]["backup_alert"] for a in _by_dataset(ds.name)}
        assert kinds <= set(dp.alerts), ds.name
    assert {a["labels"]["backup_alert"] for a in _by_dataset("grafana")} == {"out-of-sync"}
    assert _by_dataset("sonarr") == [] and _by_dataset("photos") == []


def test_every_alert_names_dataset_tier_severity_and_a_runbook() -> None:
    for rule in estate.rendered().alerts:
        tier = rule["metadata"]["labels"]["backup.homelab/tier"]
        for alert in _alerts(rule):
            assert alert["labels"]["tier"] == tier and alert["labels"]["dataset"]
            assert alert["labels"]["severity"] == alerts.SEVERITY[int(tier)]
            assert alert["annotations"]["summary"] and alert["annotations"]["runbook"]


def test_tier_one_pvc_copies_get_all_three_volsync_alerts() -> None:
    ds, dp = estate.dataset("vaultwarden")
    found = _by_dataset("vaultwarden")
    for copy in dp.copies:
        selector = f'obj_name="{volsync.source_name(ds, copy)}", obj_namespace="vaultwarden", role="source"'
        exprs = {a["alert"]: a["expr"] for a in found if a["labels"].get("destination") == copy.destination}
        assert exprs["VolSyncOutOfSync"] == f"volsync_volume_out_of_sync{{{selector}}} == 1"
        hours = copy.schedule.interval_hours
        assert exprs["VolSyncMissedRun"] == f"increase(volsync_missed_intervals_total{{{selector}}}[{hours}h]) > 0"
        assert exprs["VolSyncNeverRan"] == f"absent(volsync_sync_duration_seconds_count{{{selector}}})"
        never = next(
            a for a in found if a["alert"] == "VolSyncNeverRan" and a["labels"]["destination"] == copy.destination
        )
        assert never["for"] == f"{max(2, 2 * hours)}h"


def test_kopia_datasets_add_fork_metrics() -> None:
    kopia = {a["alert"] for a in _by_dataset("paperless")}
    assert {"KopiaOperationFailed", "KopiaRepositoryUnreachable"} <= kopia
    assert all(not a["alert"].startswith("Kopia") for a in _by_dataset("vaultwarden"))
    assert any("volsync_kopia_" in a["expr"] for a in _by_dataset("grafana"))


def test_controller_absence_is_watched_once_per_tier() -> None:
    for tier, rule in _rules_by_tier().items():
        absent = [a for a in _alerts(rule) if a["alert"] == "VolSyncControllerAbsent"]
        assert len(absent) == 1, tier
        assert absent[0]["expr"] == 'absent(up{job="volsync-metrics"} == 1)'
    tier1 = next(a for a in _alerts(_rules_by_tier()["1"]) if a["alert"] == "VolSyncControllerAbsent")
    assert tier1["labels"]["dataset"] == "paperless,vaultwarden"


def test_postgres_and_exports_use_their_own_metric_families() -> None:
    postgres = {a["alert"]: a["expr"] for a in _by_dataset("immich-db")}
    assert "cnpg_pg_stat_archiver_last_failed_time" in postgres["PgBackRestWalArchivingFailing"]
    assert 'stanza="postgres18-immich"' in postgres["PgBackRestBackupLate"]
    assert postgres["PgBackRestNeverRan"].startswith("absent(pgbackrest_backup_since_last_completion_seconds")
    export = {a["alert"]: a["expr"] for a in _by_dataset("grafana-db")}
    assert 'cronjob="grafana-db-export"' in export["ExportLate"]
    assert export["ExportNeverSucceeded"].startswith("absent(kube_cronjob_status_last_successful_time")


def test_a_tier_without_alert_kinds_gets_no_rule() -> None:
    quiet = [estate.unit(ds.name, replace(dp, alerts=())) for ds, dp in estate.pairs()]
    assert alerts.prometheus_rules(quiet, "monitoring") == []
    assert alerts.prometheus_rules([unit for unit, _ in estate.pairs()], "monitoring") != []
