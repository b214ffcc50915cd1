"""Restore procedures of the MySQL/MariaDB, MongoDB and Redis exports: the runbook step after "the dumps are there".

Each procedure loads the newest dump the export job wrote into the NAS folder, with the client of the same engine,
and says what it overwrites. The MariaDB procedure is the one the MariaDB drill runs (tests/drills).
"""

from __future__ import annotations

from inventory.models import ExportSource
from runbook.steps import step


def restore_steps(source: ExportSource, path: str) -> list[dict[str, str]]:
    """The steps that bring a dump of `source` back, reading dumps from the NAS folder `path`."""
    engine = source.engine
    if engine in ("mysqldump", "mariadb-dump"):
        client = "mariadb" if engine == "mariadb-dump" else "mysql"
        port = source.database_port or 3306
        return [step(
            "Load the newest dump",
            f"The dump was made with --databases, so it recreates database {source.database_name} (DROP TABLE IF "
            "EXISTS, then CREATE and INSERT per table, routines, triggers and events included). Stop the app, "
            "load it with a user that may create the database, then compare row counts with what you expect. For a "
            "rebuilt server, start it empty first; users and grants are not in a per-database dump.",
            f"{client} --host={source.database_host} --port={port} --user=<admin user> -p "
            f"< <newest .sql in {path}>")]
    if engine == "mongodump":
        scope = (f"database {source.database_name}" if source.database_name
                 else "every database of the instance")
        oplog = " --oplogReplay" if source.oplog else ""
        return [step(
            "Load the newest archive",
            f"mongorestore reads the gzip archive back into {scope}; --drop replaces each collection it restores "
            "instead of merging into it" + (", and --oplogReplay applies the oplog captured during the dump, so "
                                            "the result is the instance at the dump's end" if source.oplog else "")
            + ". Stop the app first.",
            f"mongorestore --uri='<MONGODB_URI of {source.credentials_secret}>' --archive=<newest .archive.gz in "
            f"{path}> --gzip --drop{oplog}")]
    if engine == "redis":
        rdb = source.rdb_path or "dump.rdb"
        return [step(
            "Put the newest snapshot in place",
            "Redis loads its RDB file only at start-up. Scale the server to zero (a running server would overwrite "
            f"the file on shutdown), copy the snapshot over {rdb} in claim {source.rdb_claim} (with AOF enabled, "
            "move the appendonlydir away too, or Redis loads that instead), start the server and check DBSIZE.",
            f"cp <newest .rdb in {path}> <claim {source.rdb_claim}>/{rdb}")]
    raise ValueError(f"{engine!r} has no restore procedure here")
