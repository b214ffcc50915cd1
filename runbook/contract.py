"""The runbook contract: what `pulumi stack output --json` promises restore runbooks (schema version 1).

Pure data from the plan. Secrets (repository passwords, cipher passphrases) are never here: the program
exports them separately as Pulumi secrets under `secrets`, keyed as `escrow` below says.
"""

from __future__ import annotations

from typing import Any

from inventory.models import Dataset, Inventory
from manifests import volsync
from plan.model import CopyPlan, DatasetPlan, Plan

CONTRACT_VERSION = "1"

RESTORE_STEPS: dict[str, list[str]] = {
    "pvc": [
        "Suspend the app's Flux Kustomization: flux suspend kustomization <app>",
        "Scale the app to zero so nothing writes to the claim: kubectl -n {namespace} scale deploy,sts --all --replicas=0",
        "Pick the copy to restore from (the first is the fastest; offsite ones survive losing the NAS); its restore "
        "object is listed as restore_object below",
        "Optionally set spec.{mover}.previous (skip the N newest snapshots) or spec.{mover}.restoreAsOf (RFC 3339 time)",
        "Unpause and trigger it: kubectl -n {namespace} patch replicationdestination <restore_object> --type merge "
        "-p '{{\"spec\":{{\"paused\":false,\"trigger\":{{\"manual\":\"restore-'$(date +%s)'\"}}}}}}'",
        "Wait until status.lastManualSync equals the trigger value and status.latestMoverStatus.result is Successful, "
        "then pause it again (spec.paused: true) so it cannot overwrite the claim later",
        "Scale the app back up and resume Flux: flux resume kustomization <app>",
    ],
    "postgres": [
        "Create a new Cluster with bootstrap.recovery.source: origin and an externalClusters entry "
        "{{name: origin, plugin: {{name: pgbackrest.dalibo.com, parameters: {{stanzaRef: {stanza}}}}}}}",
        "For point-in-time recovery add bootstrap.recovery.recoveryTarget.targetTime",
        "Wait for the Cluster to become healthy, check row counts, then point the app at the new cluster",
    ],
    "truenas": [
        "Recent loss: roll back or clone a snapshot: zfs list -t snapshot {dataset} (names start with hlb-)",
        "Site loss: create a cloud sync task with direction PULL from the copy below (same encryption password and salt)",
    ],
    "export": [
        "Restore the dataset protecting the dumps ({target}) if the NAS itself is lost",
        "pg_dump: pg_restore --clean --if-exists -d <database> <newest .dump in {path}>",
        "sqlite: stop the app, copy the newest backup from {path} over the database file, start the app",
    ],
}


def _copy(copy: CopyPlan, restore_object: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "destination": copy.destination,
        "kind": copy.kind,
        "offsite": copy.offsite,
        "media": copy.media,
        "tool": copy.tool,
        "bucket": copy.bucket,
        "endpoint": copy.endpoint,
        "region": copy.region,
        "repository": copy.repository,
        "schedule": {"cron": copy.schedule.five_field(), "human": copy.schedule.human()},
        "retention": copy.retention.levels(),
        "lock_days": copy.lock_days,
        "escrow": f"secrets.{copy.dataset}.{copy.destination}",
    }
    if restore_object is not None:
        entry["restore_object"] = restore_object
    if copy.pgbackrest is not None:
        entry["schedule"]["full"] = copy.pgbackrest.full.six_field()
        entry["schedule"]["diff"] = copy.pgbackrest.diff.six_field()
        entry["retention"] = {"full": copy.pgbackrest.retention_full, "diff": copy.pgbackrest.retention_diff}
    return entry


def _restore(ds: Dataset, plan: DatasetPlan) -> list[str]:
    source = ds.source
    fields: dict[str, Any] = {"dataset": getattr(source, "dataset", ""), "target": "", "path": ""}
    if source.kind == "pvc":
        fields |= {"namespace": source.namespace, "mover": source.mover}
    if source.kind == "postgres":
        fields["stanza"] = ds.name
    if plan.export is not None:
        fields |= {"target": plan.export.target_dataset, "path": plan.export.target_path}
    return [step.format(**fields) for step in RESTORE_STEPS[source.kind]]


def runbook_contract(inv: Inventory, plan: Plan) -> dict[str, Any]:
    """The stack outputs runbooks read: per dataset its tier, targets, copies and restore procedure."""
    datasets = {}
    for ds in inv.datasets:
        dp = plan.dataset(ds.name)
        datasets[ds.name] = {
            "tier": ds.tier,
            "source": ds.source.kind,
            "rpo_hours": dp.rpo_hours,
            "rpo_target_hours": inv.tier(ds.tier).rpo_hours,
            "copies_total": dp.copy_count,
            "offsite_copies": dp.offsite_count,
            "media": list(dp.media),
            "copies": [_copy(c, volsync.restore_name(ds, c) if ds.source.kind == "pvc" else None) for c in dp.copies],
            "snapshots": [{"level": s.level, "keep": f"{s.lifetime_value} {s.lifetime_unit}", "schedule": s.schedule}
                          for s in dp.snapshots],
            "verification": {"check_every_days": dp.verify_every_days, "drill_every_days": dp.drill_every_days},
            "alerts": list(dp.alerts),
            "restore": _restore(ds, dp),
        }
    return {
        "version": CONTRACT_VERSION,
        "datasets": datasets,
        "buckets": {b.name: {"destination": b.destination, "tier": b.tier, "endpoint": b.endpoint, "region": b.region,
                             "lock_days": b.lock_days, "versioning": b.versioning,
                             "writers": [w.key for w in b.writers]} for b in plan.buckets},
        "monthly_cost_usd": plan.monthly_cost_usd,
        "monthly_cost_total_usd": round(sum(plan.monthly_cost_usd.values()), 2),
    }
