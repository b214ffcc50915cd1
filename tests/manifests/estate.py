"""A realistic estate for manifest tests, and every object the builders render for it.

It covers restic and kopia movers, NFS, B2, R2 and a plain-HTTP MinIO, a locked kopia repository, Snapshot and
Clone copy methods, a CNPG cluster with two pgBackRest repositories, a TrueNAS hub and both export engines.
Tiers 1, 2 and 3 all appear, so integrity checks and drills are rendered at every cadence (and not at all).
`rendered()` wires the builders the way the components do, so tests can check the whole output at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from inventory import Inventory, load_inventory
from manifests import alerts, checks, drills, exports, pgbackrest, volsync
from manifests.secrets import SecretSpec, external_secret
from plan import DatasetPlan, Plan, build_plan
from plan.build import protection_unit
from plan.units import ProtectionUnit

HEALTHCHECKS = "https://hc-ping.com/ping-key/"
"""The inventory's ping base (older form, key inside); builders only learn that pings are on (`PINGS`)."""
PINGS = True


def ping_ref(dataset: str, slug: str) -> dict[str, Any]:
    """The `valueFrom` of a job's HC_URL: the dataset's ping Secret, key = the check's slug."""
    return {"secretKeyRef": {"name": f"{dataset}-healthchecks", "key": slug}}
NAS = "citadel.internal"
STORE = "onepassword"
REMOTE_PREFIX = "hlb-"
ALERT_NAMESPACE = "monitoring"

RAW: dict[str, Any] = {
    "destinations": [
        {"name": "nas", "kind": "nfs", "server": NAS, "path": "/mnt/storage0/backups"},
        {"name": "b2", "kind": "b2", "region": "us-east-005"},
        {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"},
        {
            "name": "minio-in-cluster", "kind": "s3-compatible", "endpoint": "http://minio.storage.svc:9000",
            "flavour": "minio", "offsite": False,
        },
    ],
    "datasets": [
        {
            "name": "vaultwarden", "tier": 1, "size_gb": 2, "destinations": ["nas", "b2", "r2"],
            "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                       "storage_class": "ceph-block", "capacity": "5Gi"},
        },
        {
            "name": "paperless", "tier": 1, "size_gb": 20, "destinations": ["nas", "b2"],
            "source": {"kind": "pvc", "namespace": "paperless", "claim": "paperless-media",
                       "storage_class": "ceph-block", "capacity": "50Gi", "mover": "kopia",
                       "volume_snapshot_class": "csi-rbd-snapclass", "run_as_user": 1001, "run_as_group": 1001,
                       "cache_capacity": "4Gi"},
        },
        {
            "name": "grafana", "tier": 2, "size_gb": 1, "destinations": ["nas", "minio-in-cluster"],
            "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                       "capacity": "5Gi", "mover": "kopia"},
        },
        {
            "name": "home-assistant-config", "tier": 2, "size_gb": 1,
            "destinations": ["nas", "minio-in-cluster"],
            "source": {"kind": "pvc", "namespace": "home-automation", "claim": "home-assistant-config",
                       "storage_class": "ceph-block", "capacity": "2Gi", "copy_method": "Clone"},
        },
        {
            "name": "sonarr", "tier": 3, "size_gb": 1, "destinations": ["nas"],
            "source": {"kind": "pvc", "namespace": "media", "claim": "sonarr-config", "storage_class": "ceph-block",
                       "capacity": "1Gi"},
        },
        {
            "name": "immich-db", "tier": 1, "size_gb": 10, "destinations": ["b2", "r2"],
            "source": {"kind": "postgres", "namespace": "database", "cluster": "postgres18-immich"},
        },
        {"name": "photos", "tier": 1, "size_gb": 500, "source": {"kind": "truenas", "dataset": "storage0/photos"}},
        {
            "name": "grafana-db", "tier": 1, "size_gb": 0.1,
            "source": {"kind": "export", "engine": "sqlite", "namespace": "monitoring", "target": "photos",
                       "sqlite_claim": "grafana", "sqlite_path": "grafana.db"},
        },
        {
            "name": "immich-dump", "tier": 1, "size_gb": 5,
            "source": {"kind": "export", "engine": "pg_dump", "namespace": "database", "target": "photos",
                       "database_host": "postgres18-immich-rw.database.svc", "database_name": "immich",
                       "credentials_secret": "immich-db-dump", "keep": 7},
        },
    ],
    "kubernetes": {"volume_snapshot_class": "csi-ceph-blockpool", "secret_delivery": "external-secret"},
    "monitoring": {"healthchecks": {"ping_base": HEALTHCHECKS}},
    "truenas": {"host": f"{NAS}:443"},
}


@functools.cache
def inventory() -> Inventory:
    """The validated estate."""
    return load_inventory(RAW)


@functools.cache
def plan() -> Plan:
    """The compiled plan of the estate."""
    return build_plan(inventory())


def pairs() -> list[tuple[ProtectionUnit, DatasetPlan]]:
    """Every dataset's protection unit with its plan, in inventory order."""
    return [(unit, unit.plan) for unit in plan().units]


def dataset(name: str) -> tuple[ProtectionUnit, DatasetPlan]:
    """One dataset's protection unit and its plan, by name."""
    return next((ds, dp) for ds, dp in pairs() if ds.name == name)


def unit(name: str, dataset_plan: DatasetPlan | None = None) -> ProtectionUnit:
    """The protection unit of `name`; with `dataset_plan` (a changed plan), the unit that plan leads to."""
    if dataset_plan is None:
        return plan().unit(name)
    ds = next(d for d in inventory().datasets if d.name == name)
    return protection_unit(inventory(), ds, dataset_plan)


@dataclass
class Rendered:
    """Everything the builders produced for the estate, grouped by module."""

    volsync: list[dict[str, Any]] = field(default_factory=list)
    pgbackrest: list[dict[str, Any]] = field(default_factory=list)
    exports: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    verification: list[dict[str, Any]] = field(default_factory=list)
    external_secrets: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[SecretSpec] = field(default_factory=list)
    plugin_snippets: list[dict[str, Any]] = field(default_factory=list)

    def objects(self) -> list[dict[str, Any]]:
        """Every Kubernetes object (Secrets excluded: they are specs until the program resolves them)."""
        return [*self.volsync, *self.pgbackrest, *self.exports, *self.alerts, *self.verification,
                *self.external_secrets]


@functools.cache
def rendered() -> Rendered:
    """Run every builder over the estate, as the components will."""
    inv = inventory()
    out = Rendered()
    for ds, dp in pairs():
        kind = ds.source.kind
        if kind == "pvc":
            for copy in dp.copies:
                out.volsync.append(volsync.replication_source(ds, copy, inv.kubernetes))
                out.secrets.append(volsync.repository_secret(ds, copy))
                if copy.tool == "kopia":
                    out.volsync.append(volsync.kopia_maintenance(ds, copy))
                out.volsync.append(volsync.replication_destination_restore(ds, copy))

            out.volsync.extend(volsync.drill_objects(ds, PINGS))
        elif kind == "postgres":
            out.pgbackrest.append(pgbackrest.stanza(ds))
            out.pgbackrest.append(pgbackrest.plugin_config(ds))
            for index, copy in enumerate(dp.copies, start=1):
                out.secrets.append(pgbackrest.credentials_secret(ds, copy))
                out.pgbackrest.extend(pgbackrest.scheduled_backups(ds, copy, index))
            out.plugin_snippets.append(pgbackrest.cluster_plugin_snippet(ds, pgbackrest.stanza_name(ds)))
        elif kind == "export":
            out.exports.append(exports.export_cronjob(ds, nas=inv.truenas, pings=PINGS))
        if kind in ("pvc", "postgres"):
            out.verification.extend(checks.checks(ds, PINGS))
        if kind in ("postgres", "export"):
            drill = drills.drill(ds, PINGS, nas=inv.truenas)
            out.verification.extend(drill.objects if drill else ())
        if kind == "truenas":
            nas_drill = drills.drill(ds, PINGS)
            if nas_drill is not None:
                out.verification.append(nas_drill.cronjob)
                out.secrets.append(nas_drill.secret)
    out.alerts = alerts.prometheus_rules([unit for unit, _ in pairs()], ALERT_NAMESPACE)
    out.external_secrets = [external_secret(spec, STORE, REMOTE_PREFIX) for spec in out.secrets]
    return out
