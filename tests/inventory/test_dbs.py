"""inventory/dbs.py: each dump engine's fields, every misfit reported at once with its path and the fix."""

from __future__ import annotations

import copy
from typing import Any

from inventory import load_inventory
from inventory.dbs import ENGINE_FIELDS, SECRET_KEYS
from tests.inventory.problems import problems
from tests.manifests import dbs_estate


def _raw() -> dict[str, Any]:
    return copy.deepcopy(dbs_estate.RAW)


def _source(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in raw["datasets"] if d["name"] == name)["source"]


def test_every_engine_of_the_estate_loads() -> None:
    engines = {d.source.engine for d in load_inventory(_raw()).datasets if d.source.kind == "export"}
    assert engines == set(ENGINE_FIELDS)


def test_missing_and_foreign_fields_each_get_their_path_and_fix() -> None:
    raw = _raw()
    maria = _source(raw, "nextcloud-db")
    del maria["credentials_secret"]
    maria["rdb_claim"] = "redis-data"
    maria["database_host"] = "tcp://mariadb:3306"
    _source(raw, "rocket-db")["database_name"] = "rocketchat"
    _source(raw, "authentik-redis")["rdb_path"] = "../dump.rdb"
    del _source(raw, "authentik-redis")["rdb_claim"]
    _source(raw, "unifi-db")["database_host"] = "mongo.network.svc"
    assert problems(raw) == [
        ("datasets[1].source.credentials_secret", "rule",
         "mariadb-dump exports need credentials_secret (a Secret in the export's namespace with keys MYSQL_USER, "
         "MYSQL_PASSWORD)"),
        ("datasets[1].source.rdb_claim", "rule", "rdb_claim does not apply to mariadb-dump exports; remove it"),
        ("datasets[1].source.database_host", "rule",
         "'tcp://mariadb:3306' must be a bare host name (no scheme, port or path); put the port in database_port"),
        ("datasets[3].source.database_host", "rule", "database_host does not apply to mongodump exports; remove it"),
        ("datasets[4].source.oplog", "rule",
         "oplog dumps the whole replica set member (mongodump refuses --oplog with --db); remove database_name or "
         "set oplog: false"),
        ("datasets[5].source.rdb_claim", "rule",
         "redis exports need rdb_claim (the Redis server's data PVC, mounted read-only to copy the RDB file)"),
        ("datasets[5].source.rdb_path", "rule",
         "'../dump.rdb' must be a plain path relative to the claim's root, e.g. dump.rdb"),
    ]


def test_the_new_fields_are_refused_on_the_older_engines() -> None:
    raw = _raw()
    raw["datasets"].append({"name": "immich-dump", "tier": 1, "size_gb": 1, "source": {
        "kind": "export", "engine": "pg_dump", "namespace": "db", "target": "app-dumps", "database_host": "pg",
        "database_name": "immich", "credentials_secret": "immich-dump", "oplog": True, "database_port": 5433}})
    assert problems(raw) == [
        ("datasets[7].source.database_port", "rule", "database_port does not apply to pg_dump exports; remove it"),
        ("datasets[7].source.oplog", "rule", "oplog does not apply to pg_dump exports; remove it"),
    ]


def test_an_unknown_engine_names_the_choices() -> None:
    raw = _raw()
    _source(raw, "wiki-db")["engine"] = "xtrabackup"
    ((path, kind, message),) = problems(raw)
    assert path == "datasets[2].source.engine" and kind == "literal_error"
    for engine in ("pg_dump", "sqlite", "mysqldump", "mariadb-dump", "mongodump", "redis"):
        assert engine in message


def test_every_engine_with_credentials_names_its_secret_keys() -> None:
    assert set(SECRET_KEYS) >= set(ENGINE_FIELDS)
