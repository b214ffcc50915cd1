"""A small estate with one export per engine of manifests/dbs.py (MySQL, MariaDB, MongoDB with and without the
oplog, Redis) and the NAS's configuration export, all landing in one Tier 1 NAS dataset copied offsite, and the
objects the builders render for it."""

from __future__ import annotations

import functools
from typing import Any

from inventory import Inventory, load_inventory
from manifests import drills, exports
from plan import Plan, build_plan
from plan.units import ProtectionUnit

NAS = "citadel.internal"
PINGS = True

RAW: dict[str, Any] = {
    "destinations": [
        {"name": "b2", "kind": "b2", "region": "us-east-005"},
        {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"},
    ],
    "datasets": [
        {"name": "app-dumps", "tier": 1, "size_gb": 20, "source": {"kind": "truenas", "dataset": "tank/app-dumps"}},
        {"name": "nextcloud-db", "tier": 1, "size_gb": 2,
         "source": {"kind": "export", "engine": "mariadb-dump", "namespace": "nextcloud", "target": "app-dumps",
                    "database_host": "mariadb.nextcloud.svc", "database_name": "nextcloud",
                    "credentials_secret": "nextcloud-db-dump", "keep": 10}},
        {"name": "wiki-db", "tier": 2, "size_gb": 1,
         "source": {"kind": "export", "engine": "mysqldump", "namespace": "wiki", "target": "app-dumps",
                    "database_host": "mysql.wiki.svc", "database_port": 3307, "database_name": "wiki",
                    "credentials_secret": "wiki-db-dump"}},
        {"name": "unifi-db", "tier": 2, "size_gb": 1,
         "source": {"kind": "export", "engine": "mongodump", "namespace": "network", "target": "app-dumps",
                    "database_name": "unifi", "credentials_secret": "unifi-mongo-dump"}},
        {"name": "rocket-db", "tier": 1, "size_gb": 3,
         "source": {"kind": "export", "engine": "mongodump", "namespace": "chat", "target": "app-dumps",
                    "oplog": True, "credentials_secret": "rocket-mongo-dump"}},
        {"name": "authentik-redis", "tier": 1, "size_gb": 0.5,
         "source": {"kind": "export", "engine": "redis", "namespace": "auth", "target": "app-dumps",
                    "database_host": "authentik-redis.auth.svc", "rdb_claim": "redis-data",
                    "credentials_secret": "authentik-redis-auth"}},
        {"name": "nas-config", "tier": 1, "size_gb": 0.05, "source": {"kind": "nas-config", "target": "app-dumps"}},
    ],
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
    "truenas": {"host": NAS},
}


@functools.cache
def inventory() -> Inventory:
    return load_inventory(RAW)


@functools.cache
def plan() -> Plan:
    return build_plan(inventory())


def unit(name: str) -> ProtectionUnit:
    return plan().unit(name)


def dump_job(name: str) -> dict[str, Any]:
    return exports.export_cronjob(unit(name), nas=inventory().truenas, pings=PINGS)


def drill_job(name: str) -> dict[str, Any]:
    drill = drills.drill(unit(name), PINGS, nas=inventory().truenas)
    assert drill is not None, f"{name} has no drill"
    return drill.cronjob


def objects() -> list[dict[str, Any]]:
    """Every dump and drill CronJob of the estate's exports."""
    found = []
    for u in plan().units:
        if u.kind == "export":
            found.append(dump_job(u.name))
            drill = drills.drill(u, PINGS, nas=inventory().truenas)
            found.extend(drill.objects if drill else ())
    return found
