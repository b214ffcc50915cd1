"""PrometheusRules, one per tier, raising only the alert kinds the tier asks for (`DatasetPlan.alerts`).

Kinds and what they watch:
- `out-of-sync`: VolSync `volsync_volume_out_of_sync` per ReplicationSource (plus the fork's `volsync_kopia_*`
  failure and connectivity series for kopia), failing WAL archiving for postgres, and the VolSync controller
  being absent, since without it no out-of-sync series exists to alert on.
- `missed-run`: `increase(volsync_missed_intervals_total[...])`, pgBackRest backup age from the plugin's exporter,
  export CronJob success age from kube-state-metrics.
- `never-ran`: `absent()` of the series a first successful run creates, for two backup intervals.
TrueNAS datasets report to Healthchecks from their tasks and have no series here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.models import ExportSource, PostgresSource, PvcSource
from manifests import kopiur
from manifests.meta import metadata, object_name, tier_labels
from manifests.volsync import source_name
from plan.model import CopyPlan, DatasetPlan
from plan.units import ProtectionUnit

SEVERITY = {1: "critical", 2: "warning", 3: "info"}
OUT_OF_SYNC_FOR = "15m"
CONTROLLER_JOB = "volsync-metrics"
"""`job` label of the VolSync metrics Service in the Helm chart."""
RUNBOOK = "`pulumi stack output --json` lists, under datasets.{dataset}, every copy and the restore procedure."

Rule = dict[str, Any]


def _hours(hours: int) -> str:
    return f"{hours}h"


def _grace(interval_hours: int) -> int:
    """How long a series may be missing: two intervals, since the controller forgets metrics when it restarts."""
    return max(2, 2 * interval_hours)


def _rule(
    alert: str, expr: str, kind: str, ds: ProtectionUnit, summary: str, description: str, for_: str | None,
    destination: str | None = None,
) -> Rule:
    rule_labels = {"severity": SEVERITY[ds.tier], "dataset": ds.name, "tier": str(ds.tier), "backup_alert": kind}
    if destination is not None:
        rule_labels["destination"] = destination
    rule: Rule = {"alert": alert, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = rule_labels
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook": RUNBOOK.format(dataset=ds.name),
    }
    return rule


def _volsync_rules(ds: ProtectionUnit, source: PvcSource, copy: CopyPlan, kinds: tuple[str, ...]) -> list[Rule]:
    name = source_name(ds, copy)
    selector = f'obj_name="{name}", obj_namespace="{source.namespace}", role="source"'
    interval = copy.schedule.interval_hours
    where = f"{source.namespace}/{name} ({source.claim} -> {copy.destination})"
    rules = []
    if "out-of-sync" in kinds:
        rules.append(_rule(
            "VolSyncOutOfSync", f"volsync_volume_out_of_sync{{{selector}}} == 1", "out-of-sync", ds,
            f"{ds.name}: backup to {copy.destination} is out of sync",
            f"{where} missed its last scheduled sync. Check the mover job logs: "
            f"kubectl -n {source.namespace} describe replicationsource {name}",
            OUT_OF_SYNC_FOR, copy.destination,
        ))
        if source.mover == "kopia":
            rules.append(_rule(
                "KopiaOperationFailed",
                f"increase(volsync_kopia_operation_failure_total{{{selector}}}[{_hours(interval)}]) > 0",
                "out-of-sync", ds,
                f"{ds.name}: kopia backup to {copy.destination} failed",
                f"{where}: the kopia mover reported a failed operation (label failure_reason says which).",
                None, copy.destination,
            ))
            rules.append(_rule(
                "KopiaRepositoryUnreachable", f"volsync_kopia_repository_connectivity{{{selector}}} == 0",
                "out-of-sync", ds,
                f"{ds.name}: kopia repository at {copy.destination} unreachable",
                f"{where}: the mover cannot connect to its repository (credentials, endpoint or NFS mount).",
                OUT_OF_SYNC_FOR, copy.destination,
            ))
    if "missed-run" in kinds:
        rules.append(_rule(
            "VolSyncMissedRun",
            f"increase(volsync_missed_intervals_total{{{selector}}}[{_hours(max(1, interval))}]) > 0",
            "missed-run", ds,
            f"{ds.name}: backup to {copy.destination} missed a run",
            f"{where} did not start within its {interval} h interval (mover still running or stuck).",
            None, copy.destination,
        ))
    if "never-ran" in kinds:
        rules.append(_rule(
            "VolSyncNeverRan", f"absent(volsync_sync_duration_seconds_count{{{selector}}})", "never-ran", ds,
            f"{ds.name}: backup to {copy.destination} has never completed",
            f"{where} has recorded no sync for {_grace(interval)} h: the ReplicationSource never ran or always "
            "fails before finishing.",
            _hours(_grace(interval)), copy.destination,
        ))
    return rules


def _postgres_rules(ds: ProtectionUnit, source: PostgresSource, plan: DatasetPlan,
                    kinds: tuple[str, ...]) -> list[Rule]:
    pods = f'namespace="{source.namespace}", pod=~"{source.cluster}-[0-9]+"'
    stanza = f'namespace="{source.namespace}", stanza="{source.cluster}"'
    diffs = [c.pgbackrest.diff.interval_hours for c in plan.copies if c.pgbackrest is not None]
    interval = max(diffs, default=24)
    where = f"{source.namespace}/{source.cluster}"
    rules = []
    if "out-of-sync" in kinds:
        rules.append(_rule(
            "PgBackRestWalArchivingFailing",
            f"cnpg_pg_stat_archiver_last_failed_time{{{pods}}} > cnpg_pg_stat_archiver_last_archived_time{{{pods}}}",
            "out-of-sync", ds,
            f"{ds.name}: WAL archiving is failing",
            f"{where}: the latest WAL archive attempt failed, so point-in-time recovery stops at the last "
            "archived segment. Check the pgbackrest sidecar logs of the primary.",
            OUT_OF_SYNC_FOR,
        ))
    if "missed-run" in kinds:
        rules.append(_rule(
            "PgBackRestBackupLate",
            f'pgbackrest_backup_since_last_completion_seconds{{{stanza}, backup_type="diff"}} > {2 * interval * 3600}',
            "missed-run", ds,
            f"{ds.name}: no base backup for {2 * interval} h",
            f"{where}: the newest full or differential backup is older than twice the {interval} h schedule.",
            OUT_OF_SYNC_FOR,
        ))
    if "never-ran" in kinds:
        rules.append(_rule(
            "PgBackRestNeverRan", f"absent(pgbackrest_backup_since_last_completion_seconds{{{stanza}}})",
            "never-ran", ds,
            f"{ds.name}: no pgBackRest backup exists",
            f"{where}: the pgBackRest exporter reports no completed backup in any repository.",
            _hours(_grace(interval)),
        ))
    return rules


def _export_rules(ds: ProtectionUnit, source: ExportSource, plan: DatasetPlan, kinds: tuple[str, ...]) -> list[Rule]:
    if plan.export is None:
        return []
    name = ds.export_job
    selector = f'namespace="{source.namespace}", cronjob="{name}"'
    interval = plan.export.schedule.interval_hours
    rules = []
    if "missed-run" in kinds:
        rules.append(_rule(
            "ExportLate",
            f"time() - kube_cronjob_status_last_successful_time{{{selector}}} > {_grace(interval) * 3600}",
            "missed-run", ds,
            f"{ds.name}: {plan.export.engine} export is late",
            f"CronJob {source.namespace}/{name} last succeeded more than {_grace(interval)} h ago.",
            OUT_OF_SYNC_FOR, plan.export.target_dataset,
        ))
    if "never-ran" in kinds:
        rules.append(_rule(
            "ExportNeverSucceeded", f"absent(kube_cronjob_status_last_successful_time{{{selector}}})",
            "never-ran", ds,
            f"{ds.name}: {plan.export.engine} export has never succeeded",
            f"CronJob {source.namespace}/{name} has no successful run on record.",
            _hours(_grace(interval)), plan.export.target_dataset,
        ))
    return rules


def _dataset_rules(ds: ProtectionUnit, plan: DatasetPlan) -> list[Rule]:
    source = ds.source
    if isinstance(source, PvcSource) and source.mover == "kopiur":
        return kopiur.alert_rules(ds, plan.alerts, SEVERITY[ds.tier], RUNBOOK.format(dataset=ds.name))
    if isinstance(source, PvcSource):
        return [r for copy in plan.copies for r in _volsync_rules(ds, source, copy, plan.alerts)]
    if isinstance(source, PostgresSource):
        return _postgres_rules(ds, source, plan, plan.alerts)
    if isinstance(source, ExportSource):
        return _export_rules(ds, source, plan, plan.alerts)
    return []


def _controller_rule(tier: int, datasets: list[str]) -> Rule:
    return {
        "alert": "VolSyncControllerAbsent",
        "expr": f'absent(up{{job="{CONTROLLER_JOB}"}} == 1)',
        "for": OUT_OF_SYNC_FOR,
        "labels": {
            "severity": SEVERITY[tier], "dataset": ",".join(datasets), "tier": str(tier), "backup_alert": "out-of-sync",
        },
        "annotations": {
            "summary": f"VolSync controller is down: tier {tier} PVC backups are not running",
            "description": f"No VolSync metrics target is up; unprotected until it returns: {', '.join(datasets)}.",
            "runbook": "kubectl -n volsync-system get pods; check the controller's logs and its ServiceMonitor.",
        },
    }


def prometheus_rules(units: Sequence[ProtectionUnit], namespace: str) -> list[dict[str, Any]]:
    """One PrometheusRule per tier that has at least one alert to raise."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    volsync_watched: dict[int, list[str]] = defaultdict(list)
    kopiur_watched: dict[int, list[str]] = defaultdict(list)
    for ds in units:
        plan = ds.plan
        rules = _dataset_rules(ds, plan)
        if rules:
            groups[ds.tier].append({"name": f"homelab-backups.{ds.name}", "rules": rules})
        if isinstance(ds.source, PvcSource) and plan.copies and "out-of-sync" in plan.alerts:
            (kopiur_watched if ds.source.mover == "kopiur" else volsync_watched)[ds.tier].append(ds.name)
    result = []
    for tier in sorted(groups):
        tier_groups = sorted(groups[tier], key=lambda g: g["name"])
        if volsync_watched[tier]:
            tier_groups.append({
                "name": "homelab-backups.volsync-controller",
                "rules": [_controller_rule(tier, sorted(volsync_watched[tier]))],
            })
        if kopiur_watched[tier]:
            tier_groups.append({"name": "homelab-backups.kopiur-controller",
                                "rules": [kopiur.controller_rule(tier, sorted(kopiur_watched[tier]), SEVERITY[tier])]})
        result.append({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": metadata(object_name("homelab-backups", f"tier{tier}"), namespace, tier_labels(tier)),
            "spec": {"groups": tier_groups},
        })
    return result
