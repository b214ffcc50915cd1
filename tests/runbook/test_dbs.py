"""runbook/dbs.py: every new engine's export gets a restore procedure naming its client, its dump and what it
overwrites (the MariaDB one is run for real by tests/drills/test_db_exports_drill.py)."""

from __future__ import annotations

import pytest

from runbook.contract import runbook_contract
from runbook.dbs import restore_steps
from tests.manifests import dbs_estate


def _restore(name: str) -> list[dict[str, str]]:
    return runbook_contract(dbs_estate.inventory(), dbs_estate.plan())["datasets"][name]["restore"]


@pytest.mark.parametrize(("name", "command"), [
    ("nextcloud-db", "mariadb --host=mariadb.nextcloud.svc --port=3306 --user=<admin user> -p < <newest .sql in "
                     "/mnt/tank/app-dumps/nextcloud-db>"),
    ("wiki-db", "mysql --host=mysql.wiki.svc --port=3307 --user=<admin user> -p < <newest .sql in "
                "/mnt/tank/app-dumps/wiki-db>"),
    ("unifi-db", "mongorestore --uri='<MONGODB_URI of unifi-mongo-dump>' --archive=<newest .archive.gz in "
                 "/mnt/tank/app-dumps/unifi-db> --gzip --drop"),
    ("rocket-db", "mongorestore --uri='<MONGODB_URI of rocket-mongo-dump>' --archive=<newest .archive.gz in "
                  "/mnt/tank/app-dumps/rocket-db> --gzip --drop --oplogReplay"),
    ("authentik-redis", "cp <newest .rdb in /mnt/tank/app-dumps/authentik-redis> <claim redis-data>/dump.rdb"),
])
def test_each_engine_restores_its_newest_dump(name: str, command: str) -> None:
    steps = _restore(name)
    assert steps[0]["command"] == f"ls -1t /mnt/tank/app-dumps/{name}/{name}-*  # newest first"
    assert steps[-1]["command"] == command
    assert len(steps) == 2 and all(s["why"].endswith(".") for s in steps)


def test_the_oplog_and_aof_caveats_are_spelled_out() -> None:
    assert "--oplogReplay applies the oplog" in _restore("rocket-db")[-1]["why"]
    assert "appendonlydir" in _restore("authentik-redis")[-1]["why"]


def test_other_engines_are_not_handled_here() -> None:
    source = dbs_estate.inventory().datasets[1].source.model_copy(update={"engine": "sqlite"})
    with pytest.raises(ValueError, match="no restore procedure"):
        restore_steps(source, "/mnt/x")
