"""dataset-missing-alerting: the estate passes; missing alert kinds are listed per dataset."""

from __future__ import annotations

from policies.rules import dataset_missing_alerting as rule
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier1_pvc_without_never_ran_alert():
    estate = f.Estate()
    groups = estate.alerts.props["spec"]["groups"]
    vaultwarden = next(g for g in groups if g["name"] == "homelab-backups.vaultwarden")
    vaultwarden["rules"] = [r for r in vaultwarden["rules"] if r["labels"]["backup_alert"] != "never-ran"]
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset vaultwarden (tier 1) raises no never-ran alert (has: missed-run, out-of-sync); tier 1 requires "
        "out-of-sync, missed-run, never-ran: enable monitoring.prometheus_rules, or ping Healthchecks from its tasks."]
    assert outcome.urns == [estate.vaultwarden.urn]


def test_truenas_tasks_without_healthchecks_pings():
    estate = f.Estate()
    for task in (estate.sync_b2, estate.sync_r2):
        task.props["post_script"] = ""
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset photos (tier 1) raises no out-of-sync, missed-run, never-ran alert (has: none); tier 1 requires "
        "out-of-sync, missed-run, never-ran: enable monitoring.prometheus_rules, or ping Healthchecks from its tasks."]


def test_without_prometheus_rules():
    estate = f.Estate()
    estate.remove(estate.alerts)
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert [m.split(" raises ")[0] for m in messages] == [
        "dataset grafana (tier 2)", "dataset immich-db (tier 1)", "dataset vaultwarden (tier 1)"]


def _without_other_alerting() -> f.Estate:
    """No PrometheusRule and silent NAS tasks: the export's own ping is db-dump's only alerting."""
    estate = f.Estate()
    estate.remove(estate.alerts)
    for task in (estate.sync_b2, estate.sync_r2):
        task.props["pre_script"] = task.props["post_script"] = ""
    return estate


def _export_env(estate: f.Estate) -> list[dict]:
    return estate.export.props["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]


def test_export_pinging_from_a_secret_counts_as_alerting():
    # The program hands HC_URL over as a secretKeyRef (the URL carries the ping key); the pack never sees the value.
    messages = f.run_stack(POLICY, _without_other_alerting().nodes).messages
    assert not any(m.startswith("dataset db-dump ") for m in messages), messages


def test_export_with_a_plaintext_ping_url_still_counts():
    estate = _without_other_alerting()
    _export_env(estate)[:] = [{"name": "HC_URL", "value": "https://hc-ping.com/key/backup-db-dump-export"}]
    assert not any(m.startswith("dataset db-dump ") for m in f.run_stack(POLICY, estate.nodes).messages)


def test_export_without_ping_url_has_no_alerting():
    estate = _without_other_alerting()
    _export_env(estate)[:] = []
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert "dataset db-dump (tier 2) raises no out-of-sync alert (has: none); tier 2 requires out-of-sync: enable " \
        "monitoring.prometheus_rules, or ping Healthchecks from its tasks." in messages


def test_export_with_an_incomplete_secret_ref_has_no_alerting():
    estate = _without_other_alerting()
    _export_env(estate)[:] = [{"name": "HC_URL", "valueFrom": {"secretKeyRef": {"name": "db-dump-healthchecks"}}}]
    assert any(m.startswith("dataset db-dump ") for m in f.run_stack(POLICY, estate.nodes).messages)


def test_nas_config_and_db_exports_alert_through_their_pings():
    estate = f.Estate()
    estate.add_nas_config()
    estate.add_db_export()
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_nas_config_cron_job_without_a_ping_has_no_alerting():
    # Like every export, it inherits its target's alerting (the photos cloud sync pings); without those pings too,
    # nothing watches it.
    estate = f.Estate()
    estate.add_nas_config(ping=False)
    assert f.run_stack(POLICY, estate.nodes).messages == []
    for task in (estate.sync_b2, estate.sync_r2):
        task.props["post_script"] = ""
    assert f.run_stack(POLICY, estate.nodes).messages[0] == (
        "dataset nas-config (tier 1) raises no out-of-sync, missed-run, never-ran alert (has: none); tier 1 requires "
        "out-of-sync, missed-run, never-ran: enable monitoring.prometheus_rules, or ping Healthchecks from its tasks.")
