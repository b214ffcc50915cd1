"""Export drills with real servers: the rendered dump, drill and reporter scripts, exactly as the CronJobs carry
them, against MariaDB 10.11 and Redis 7.0 (Debian packages) on loopback; then the runbook's restore command into a
fresh server, and the data compared.

- MariaDB (`mariadb-dump` and `mysqldump`, which Debian's client ships as the same tool): a database with a
  trigger, a procedure, an event, binary data and a password full of quoting hazards, dumped by a user holding only
  the privileges the README lists; restored with the runbook's command into a second, empty server; row counts and
  `CHECKSUM TABLE` equal, the routine, trigger and event back. Rotation keeps `keep` dumps.
- Redis: BGSAVE, wait for LASTSAVE, copy from the data directory (the claim's mount), `redis-check-rdb`; the copy
  loaded by a fresh server has every key with its value.
- Failures: a wrong password and a dead server make the reporter ping `/fail` and exit non-zero.

MongoDB has no server package in Debian 12 (nor on PyPI as a server), so its dump and drill run only in the unit
tests with stand-in tools (tests/manifests/test_dbs.py).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inventory import load_inventory
from manifests import drills, exports
from plan import build_plan
from runbook.contract import runbook_contract
from tests.drills.databases import MariaDb, Redis
from tests.drills.records import RECORDS, DrillRecord
from tests.engine.project import free_port

pytestmark = [pytest.mark.slow]

PASSWORD = "p\"a\\ss#w'rd $x"
"""The dump user's password: a double quote, a backslash, a hash, a single quote, a space and a dollar."""
REDIS_PASSWORD = "redis-pa$$ 'word"


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDb]:
    server = MariaDb(tmp_path_factory.mktemp("mariadb"), "source")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = Redis(tmp_path_factory.mktemp("redis"), "source", REDIS_PASSWORD)
    try:
        yield server.start()
    finally:
        server.stop()


def _inventory(mariadb_port: int, redis_port: int, engine: str = "mariadb-dump") -> dict[str, Any]:
    return {
        "destinations": [{"name": "b2", "kind": "b2", "region": "us-east-005"},
                         {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"}],
        "datasets": [
            {"name": "app-dumps", "tier": 1, "size_gb": 1, "source": {"kind": "truenas", "dataset": "tank/dumps"}},
            {"name": "shop-db", "tier": 1, "size_gb": 1,
             "source": {"kind": "export", "engine": engine, "namespace": "shop", "target": "app-dumps",
                        "database_host": "127.0.0.1", "database_port": mariadb_port, "database_name": "shop",
                        "credentials_secret": "shop-db-dump", "keep": 2}},
            {"name": "cache", "tier": 1, "size_gb": 1,
             "source": {"kind": "export", "engine": "redis", "namespace": "shop", "target": "app-dumps",
                        "database_host": "127.0.0.1", "database_port": redis_port, "rdb_claim": "redis-data",
                        "credentials_secret": "cache-auth"}},
        ],
        "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
        "truenas": {"host": "citadel.internal"},
    }


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


class Job:
    """The containers of one rendered CronJob, run in order on this machine with its paths moved under `root`."""

    def __init__(self, job: dict[str, Any], root: Path, secrets: dict[str, str], data: Path | None = None) -> None:
        self.job, self.root, self.secrets, self.data = job, root, secrets, data
        self.work = root / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.backup = root / "backup"
        self.bin = root / "bin"
        self.bin.mkdir(exist_ok=True)
        # The reporter's curl: records what it would have sent to Healthchecks.
        curl = self.bin / "curl"
        curl.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {root}/pings.log\n')
        curl.chmod(0o755)

    def _localize(self, text: str) -> str:
        text = text.replace("/work/", f"{self.work}/").replace("/backup", str(self.backup))
        return text.replace("/data/", f"{self.data}/") if self.data is not None else text

    def _env(self, container: dict[str, Any]) -> dict[str, str]:
        env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "HOME": str(self.work)}
        for entry in container["env"]:
            if "value" in entry:
                env[entry["name"]] = self._localize(entry["value"])
            elif "secretKeyRef" in entry["valueFrom"]:
                ref = entry["valueFrom"]["secretKeyRef"]
                if ref["key"] in self.secrets:
                    env[entry["name"]] = self.secrets[ref["key"]]
                elif entry["name"] == "HC_URL":
                    env["HC_URL"] = f"https://hc-ping.com/key/{ref['key']}"
        return env

    def run(self) -> tuple[int, str]:
        """Init containers, then the main container; returns its exit status and the joined output."""
        pod = _pod(self.job)
        output = []
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            assert container["command"][:2] == ["/bin/sh", "-c"]
            result = subprocess.run(["/bin/sh", "-c", self._localize(container["command"][2])],
                                    env=self._env(container), capture_output=True, text=True, check=False, timeout=300)
            output.append(f"[{container['name']}] {result.stdout}{result.stderr}")
            if container in pod.get("initContainers", []):
                assert result.returncode == 0, f"init container {container['name']} failed:\n{output[-1]}"
        return result.returncode, "\n".join(output)

    def pings(self) -> list[str]:
        log = self.root / "pings.log"
        return log.read_text().splitlines() if log.exists() else []


def _seed_mariadb(server: MariaDb) -> None:
    server.sql("CREATE DATABASE shop CHARACTER SET utf8mb4")
    server.sql("""
        CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), photo BLOB) ENGINE=InnoDB;
        CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, total DECIMAL(10,2),
                             note TEXT) ENGINE=InnoDB;
        CREATE TABLE audit (id INT PRIMARY KEY AUTO_INCREMENT, what VARCHAR(200)) ENGINE=InnoDB;
        CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW
            INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id));
        CREATE PROCEDURE order_count() SELECT COUNT(*) FROM orders;
        CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0;
        INSERT INTO customers (name, photo) VALUES ('Zoë', UNHEX('00FF10A0')), ('O''Brien', NULL),
                                                   ('line\\nbreak', UNHEX('DEADBEEF'));
    """, "shop")
    values = ",".join(f"({i % 3 + 1}, {i}.25, 'order \\'{i}\\' ünïcode')" for i in range(1, 2001))
    server.sql(f"INSERT INTO orders (customer, total, note) VALUES {values}", "shop")
    # Exactly the privileges the README lists for the dump user.
    literal = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    server.sql(f"CREATE USER 'dumper'@'127.0.0.1' IDENTIFIED BY '{literal}'")
    server.sql("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT ON shop.* TO 'dumper'@'127.0.0.1'")
    server.sql("GRANT SELECT ON mysql.proc TO 'dumper'@'127.0.0.1'")


def _fingerprint(server: MariaDb) -> dict[str, Any]:
    tables = server.sql("SHOW TABLES", "shop").split()
    return {
        "rows": {t: int(server.sql(f"SELECT COUNT(*) FROM `{t}`", "shop")) for t in tables},
        "checksums": server.sql(f"CHECKSUM TABLE {', '.join(tables)}", "shop"),
        "routines": server.sql("SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='shop'"),
        "triggers": server.sql("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA='shop'"),
        "events": server.sql("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA='shop'"),
    }


@pytest.mark.parametrize("engine", ["mariadb-dump", "mysqldump"])
def test_mariadb_dump_restores_into_a_fresh_server(engine: str, mariadb: MariaDb, redis: Redis, tmp_path: Path,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    if not mariadb.sql("SHOW DATABASES LIKE 'shop'"):
        _seed_mariadb(mariadb)
    before = _fingerprint(mariadb)
    assert before["rows"] == {"audit": 2000, "customers": 3, "orders": 2000}
    inv = load_inventory(_inventory(mariadb.port, redis.port, engine))
    plan = build_plan(inv)
    unit = plan.unit("shop-db")
    secrets = {"MYSQL_USER": "dumper", "MYSQL_PASSWORD": PASSWORD}

    started = time.monotonic()
    for _ in range(3):
        job = Job(exports.export_cronjob(unit, nas=inv.truenas, pings=True), tmp_path, secrets)
        status, output = job.run()
        assert status == 0, output
        time.sleep(1.1)  # one dump per second: the stamp has second resolution
    dump_seconds = (time.monotonic() - started) / 3
    folder = tmp_path / "backup" / "shop-db"
    dumps = sorted(p.name for p in folder.iterdir())
    assert len(dumps) == 2 and all(d.startswith("shop-db-") and d.endswith(".sql") for d in dumps), dumps
    assert oct((folder / dumps[-1]).stat().st_mode & 0o777) == "0o600"
    assert not list((tmp_path / "work").glob("client.cnf")), "the option file with the password must not stay"
    assert job.pings() == ["https://hc-ping.com/key/backup-shop-db-export"] * 3
    assert PASSWORD not in output

    drill = drills.drill(unit, True, nas=inv.truenas)
    assert drill is not None
    drill_job = Job(drill.cronjob, tmp_path, {})
    status, output = drill_job.run()
    assert status == 0 and "restore drill passed" in output and "3 tables" in output, output

    fresh = MariaDb(tmp_path_factory.mktemp("mariadb-restore"), "fresh").start()
    try:
        contract = runbook_contract(inv, plan)
        steps = contract["datasets"]["shop-db"]["restore"]
        command = steps[-1]["command"]
        assert command.startswith(f"{'mariadb' if engine == 'mariadb-dump' else 'mysql'} --host=127.0.0.1 "), command
        command = (command.replace(f"--port={mariadb.port}", f"--port={fresh.port}")
                   .replace("<admin user>", "root").replace(" -p ", " --password= ")
                   .replace(f"<newest .sql in {unit.plan.export.target_path}>", str(folder / dumps[-1])))
        started = time.monotonic()
        result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False, timeout=300)
        restore_seconds = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert _fingerprint(fresh) == before
        RECORDS.drills.append(DrillRecord(f"{engine}: dump, runbook restore",
                                          "MariaDB 10.11", restore_seconds, (folder / dumps[-1]).stat().st_size, 1,
                                          f"dump {dump_seconds:.1f} s"))
    finally:
        fresh.stop()


def test_mariadb_dump_failure_pings_fail_and_fails_the_job(mariadb: MariaDb, redis: Redis, tmp_path: Path) -> None:
    inv = load_inventory(_inventory(mariadb.port, redis.port))
    unit = build_plan(inv).unit("shop-db")
    job = Job(exports.export_cronjob(unit, nas=inv.truenas, pings=True), tmp_path,
              {"MYSQL_USER": "dumper", "MYSQL_PASSWORD": "wrong"})
    status, output = job.run()
    assert status != 0 and "mariadb-dump export failed" in output, output
    assert job.pings() == ["https://hc-ping.com/key/backup-shop-db-export/fail"]
    assert not [p for p in (tmp_path / "backup" / "shop-db").iterdir()], "a failed dump must leave nothing behind"


def test_redis_snapshot_copy_loads_into_a_fresh_server(mariadb: MariaDb, redis: Redis, tmp_path: Path,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    expected = {f"session:{i}": f"user-{i} ünï" for i in range(500)}
    for key, value in expected.items():
        redis.call("SET", key, value)
    redis.call("RPUSH", "queue", "a", "b", "c")
    inv = load_inventory(_inventory(mariadb.port, redis.port))
    unit = build_plan(inv).unit("cache")
    job = Job(exports.export_cronjob(unit, nas=inv.truenas, pings=True), tmp_path, {"REDISCLI_AUTH": REDIS_PASSWORD},
              data=redis.base)
    lastsave = int(redis.call("LASTSAVE"))
    started = time.monotonic()
    status, output = job.run()
    dump_seconds = time.monotonic() - started
    assert status == 0, output
    assert int(redis.call("LASTSAVE")) > lastsave, "the export must have made a new save"
    (rdb,) = (tmp_path / "backup" / "cache").iterdir()
    assert rdb.name.endswith(".rdb")
    assert job.pings() == ["https://hc-ping.com/key/backup-cache-export"]

    drill = drills.drill(unit, True, nas=inv.truenas)
    assert drill is not None
    status, output = Job(drill.cronjob, tmp_path, {}).run()
    assert status == 0 and "restore drill passed" in output and "501 keys" in output, output

    started = time.monotonic()
    fresh = Redis(tmp_path_factory.mktemp("redis-restore"), "fresh", REDIS_PASSWORD, rdb=rdb).start()
    try:
        restore_seconds = time.monotonic() - started
        assert fresh.call("DBSIZE") == "501"
        assert all(fresh.call("GET", k) == v for k, v in expected.items())
        assert fresh.call("LRANGE", "queue", "0", "-1").split() == ["a", "b", "c"]
        RECORDS.drills.append(DrillRecord("redis: BGSAVE copy, fresh server", "Redis 7.0",
                                          restore_seconds, rdb.stat().st_size, 1, f"dump {dump_seconds:.1f} s"))
    finally:
        fresh.stop()


def test_redis_export_fails_when_the_server_is_gone(mariadb: MariaDb, redis: Redis, tmp_path: Path) -> None:
    inv = load_inventory(_inventory(mariadb.port, free_port_closed()))
    unit = build_plan(inv).unit("cache")
    job = Job(exports.export_cronjob(unit, nas=inv.truenas, pings=True), tmp_path, {"REDISCLI_AUTH": REDIS_PASSWORD},
              data=redis.base)
    status, output = job.run()
    assert status != 0 and "redis export failed" in output, output
    assert job.pings() == ["https://hc-ping.com/key/backup-cache-export/fail"]


def free_port_closed() -> int:
    """A loopback port nothing listens on."""
    return free_port()
