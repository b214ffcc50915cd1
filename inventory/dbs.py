"""Which fields each dump engine of an `export` source needs, and which it cannot use.

One home for the per-engine rules of `ExportSource`: MySQL/MariaDB (`mysqldump`, `mariadb-dump`), MongoDB
(`mongodump`) and Redis (`redis`, a BGSAVE snapshot copied from the server's claim) beside `pg_dump` and `sqlite`.
Every message names the field and says what to write instead.
"""

from __future__ import annotations

import re
from typing import Any

ENGINE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mysqldump": (("database_host", "database_name", "credentials_secret"), ("database_port",)),
    "mariadb-dump": (("database_host", "database_name", "credentials_secret"), ("database_port",)),
    "mongodump": (("credentials_secret",), ("database_name", "oplog")),
    "redis": (("database_host", "rdb_claim"), ("database_port", "credentials_secret", "rdb_path")),
}
"""engine -> (required fields, optional fields) for the engines added beside pg_dump and sqlite."""

SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "pg_dump": ("PGUSER", "PGPASSWORD"),
    "mysqldump": ("MYSQL_USER", "MYSQL_PASSWORD"),
    "mariadb-dump": ("MYSQL_USER", "MYSQL_PASSWORD"),
    "mongodump": ("MONGODB_URI",),
    "redis": ("REDISCLI_AUTH",),
}
"""The keys each engine reads from `credentials_secret` (a Secret you keep in the app's namespace)."""

_NEW_FIELDS = ("database_port", "oplog", "rdb_claim", "rdb_path")
_ALL_FIELDS = ("database_host", "database_name", "credentials_secret", "sqlite_claim", "sqlite_path", *_NEW_FIELDS)
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_FIELD_HELP = {
    "database_host": "the server's Service name, e.g. mariadb.databases.svc",
    "database_name": "the database to dump",
    "credentials_secret": "a Secret in the export's namespace with keys {keys}",
    "rdb_claim": "the Redis server's data PVC, mounted read-only to copy the RDB file",
}


def _is_set(source: Any, name: str) -> bool:
    value = getattr(source, name)
    return value not in (None, False)


def engine_problems(source: Any) -> list[tuple[str, str]]:
    """Why the fields of an `export` source do not fit its engine, as (field, message); empty when they fit."""
    engine = source.engine
    problems: list[tuple[str, str]] = []
    if engine not in ENGINE_FIELDS:
        return [(name, f"{name} does not apply to {engine} exports; remove it") for name in _NEW_FIELDS
                if _is_set(source, name)]
    required, optional = ENGINE_FIELDS[engine]
    keys = ", ".join(SECRET_KEYS.get(engine, ()))
    for name in required:
        if not _is_set(source, name):
            problems.append((name, f"{engine} exports need {name} ({_FIELD_HELP[name].format(keys=keys)})"))
    problems += [(name, f"{name} does not apply to {engine} exports; remove it") for name in _ALL_FIELDS
                 if name not in required + optional and _is_set(source, name)]
    host = source.database_host
    if host and not _HOST.match(host):
        problems.append(("database_host", f"{host!r} must be a bare host name (no scheme, port or path); put the "
                         "port in database_port"))
    if engine == "mongodump" and source.oplog and source.database_name:
        problems.append(("oplog", "oplog dumps the whole replica set member (mongodump refuses --oplog with --db); "
                         "remove database_name or set oplog: false"))
    path = source.rdb_path
    if path is not None and (not path or path.startswith("/") or ".." in path.split("/")
                             or any(c in path for c in "'\"?#$`\\ ")):
        problems.append(("rdb_path", f"{path!r} must be a plain path relative to the claim's root, e.g. dump.rdb"))
    return problems
