"""manifests/dbs.py: the MySQL/MariaDB, MongoDB and Redis dump and drill CronJobs.

The real MariaDB and Redis runs are in tests/drills/test_db_exports_drill.py. MongoDB has no server here, so its
scripts run with stand-in `mongodump` that writes what the real one writes (a gzip stream whose content starts
with the archive magic number), and the checks are shown to refuse anything else.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from manifests import dbs, workloads
from tests.manifests import crd_schema, dbs_estate

MAGIC = bytes.fromhex("6de29981")


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("name", ["nextcloud-db", "wiki-db", "unifi-db", "rocket-db", "authentik-redis"])
def test_dump_jobs_are_valid_and_report_through_a_reporter(name: str) -> None:
    job = dbs_estate.dump_job(name)
    assert crd_schema.validate(job) == []
    pod = _pod(job)
    (worker,) = pod["initContainers"]
    (reporter,) = pod["containers"]
    assert reporter["image"] == workloads.CURL_IMAGE and "ping" in reporter["command"][2]
    assert "HC_URL" in _env(reporter) and "HC_URL" not in _env(worker), "only the reporter pings"
    assert {"name": "work", "mountPath": "/work"} in worker["volumeMounts"]
    assert {"name": "work", "mountPath": "/work"} in reporter["volumeMounts"]
    assert worker["securityContext"]["readOnlyRootFilesystem"] is True
    unit = dbs_estate.unit(name)
    assert job["spec"]["schedule"] == unit.plan.export.schedule.five_field()
    assert _env(worker)["KEEP"] == str(unit.plan.export.keep)
    assert job["metadata"]["labels"]["backup.homelab/destination"] == "app-dumps"


def test_mysql_flags_and_credentials() -> None:
    maria, mysql = dbs_estate.dump_job("nextcloud-db"), dbs_estate.dump_job("wiki-db")
    (worker,) = _pod(maria)["initContainers"]
    script = worker["command"][2]
    for flag in ("--single-transaction", "--quick", "--routines", "--triggers", "--events", "--hex-blob",
                 "--databases", "--defaults-extra-file=/work/client.cnf"):
        assert flag in script
    env = _env(worker)
    assert env["DUMP_TOOL"] == "mariadb-dump" and env["MYSQL_PORT"] == "3306" and env["MYSQL_DATABASE"] == "nextcloud"
    assert env["MYSQL_PASSWORD"] == {"secretKeyRef": {"name": "nextcloud-db-dump", "key": "MYSQL_PASSWORD"}}
    assert worker["image"] == workloads.MARIADB_IMAGE
    (worker,) = _pod(mysql)["initContainers"]
    assert _env(worker)["DUMP_TOOL"] == "mysqldump" and _env(worker)["MYSQL_PORT"] == "3307"
    assert worker["image"] == workloads.MYSQL_IMAGE


def test_mongo_oplog_only_for_the_whole_instance() -> None:
    (plain,) = _pod(dbs_estate.dump_job("unifi-db"))["initContainers"]
    (oplog,) = _pod(dbs_estate.dump_job("rocket-db"))["initContainers"]
    assert _env(plain)["MONGO_OPLOG"] == "" and _env(plain)["MONGO_DATABASE"] == "unifi"
    assert _env(oplog)["MONGO_OPLOG"] == "1" and _env(oplog)["MONGO_DATABASE"] == ""
    assert _env(oplog)["MONGODB_URI"] == {"secretKeyRef": {"name": "rocket-mongo-dump", "key": "MONGODB_URI"}}
    assert "--archive=" in oplog["command"][2] and "--gzip" in oplog["command"][2]


def test_redis_mounts_the_server_claim_read_only() -> None:
    pod = _pod(dbs_estate.dump_job("authentik-redis"))
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "redis-data", "readOnly": True}} in pod["volumes"]
    (worker,) = pod["initContainers"]
    assert {"name": "data", "mountPath": "/data", "readOnly": True} in worker["volumeMounts"]
    assert _env(worker)["RDB_PATH"] == "dump.rdb" and _env(worker)["REDIS_PORT"] == "6379"
    assert "BGSAVE" in worker["command"][2] and "LASTSAVE" in worker["command"][2]


@pytest.mark.parametrize("name", ["nextcloud-db", "rocket-db", "authentik-redis"])
def test_drills_read_the_dump_folder_read_only(name: str) -> None:
    job = dbs_estate.drill_job(name)
    assert crd_schema.validate(job) == []
    pod = _pod(job)
    (worker,) = pod["initContainers"]
    assert {"name": "backup", "mountPath": "/backup", "readOnly": True} in worker["volumeMounts"]
    assert next(v for v in pod["volumes"] if v["name"] == "backup")["nfs"]["readOnly"] is True
    assert _env(worker)["DUMPS"] == f"/backup/{name}" and _env(worker)["EXT"] == dbs.EXTENSIONS[
        dbs_estate.unit(name).source.engine]


def _run(script: str, tmp_path: Path, env: dict[str, str], bin_dir: Path) -> subprocess.CompletedProcess[str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    text = script.replace("/work/", f"{work}/")
    return subprocess.run(["/bin/sh", "-c", text], env={"PATH": f"{bin_dir}:{os.environ['PATH']}", **env},
                          capture_output=True, text=True, check=False)


def _stand_in(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
    (bin_dir / name).chmod(0o755)


@pytest.mark.parametrize(("content", "ok"), [(MAGIC + b"collections", True), (b"not an archive", False)])
def test_mongo_dump_keeps_only_what_looks_like_a_mongodump_archive(tmp_path: Path, content: bytes, ok: bool) -> None:
    payload = tmp_path / "payload.gz"
    payload.write_bytes(gzip.compress(content))
    bin_dir = tmp_path / "bin"
    _stand_in(bin_dir, "mongodump", f'for a; do case "$a" in --archive=*) cp {payload} "${{a#--archive=}}";; '
                                    f'--config=*) cp "${{a#--config=}}" {tmp_path}/seen.yaml;; esac; done')
    out = tmp_path / "backup" / "rocket-db"
    env = {"OUT": str(out), "PREFIX": "rocket-db", "KEEP": "3", "EXT": "archive.gz", "ENGINE": "mongodump",
           "MONGODB_URI": "mongodb://u:it's@h/?replicaSet=rs0", "MONGO_DATABASE": "", "MONGO_OPLOG": "1"}
    result = _run(dbs.dump_script("mongodump"), tmp_path, env, bin_dir)
    assert result.returncode == 0
    assert (tmp_path / "work" / "status").read_text().strip() == ("0" if ok else "1"), result.stdout + result.stderr
    assert (tmp_path / "seen.yaml").read_text() == "uri: 'mongodb://u:it''s@h/?replicaSet=rs0'\n"
    assert not (tmp_path / "work" / "mongo.yaml").exists() or not ok
    assert len(list(out.glob("rocket-db-*.archive.gz"))) == (1 if ok else 0)


@pytest.mark.parametrize(("content", "expected"), [
    (MAGIC + b"x", "restore drill passed"), (b"junk", "is not a mongodump archive")])
def test_mongo_drill_checks_the_newest_archive(tmp_path: Path, content: bytes, expected: str) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "rocket-db-20260101T000000Z.archive.gz").write_bytes(b"older, broken")
    (dumps / "rocket-db-20260102T000000Z.archive.gz").write_bytes(gzip.compress(content))
    env = {"DUMPS": str(dumps), "PREFIX": "rocket-db", "EXT": "archive.gz"}
    result = _run(dbs.drill_script("mongodump"), tmp_path, env, tmp_path)
    assert result.returncode == 0 and expected in (tmp_path / "work" / "message").read_text()


def test_mysql_drill_refuses_a_truncated_dump(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "wiki-db-20260102T000000Z.sql").write_text("CREATE TABLE `a` (\n  id int\n);\nINSERT INTO `a` VALUES")
    result = _run(dbs.drill_script("mysqldump"), tmp_path, {"DUMPS": str(dumps), "PREFIX": "wiki-db", "EXT": "sql"},
                  tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "work" / "status").read_text().strip() == "1"
    assert "truncated" in (tmp_path / "work" / "message").read_text()


@pytest.mark.parametrize(("status", "message", "pinged", "exit_code"), [
    ("0", "ok: x", "https://hc/x", 0), ("2", "failed", "https://hc/x/fail", 2), (None, None, "https://hc/x/fail", 1)])
def test_reporter_pings_and_exits_with_the_recorded_status(tmp_path: Path, status: str | None, message: str | None,
                                                           pinged: str, exit_code: int) -> None:
    work = tmp_path / "work"
    work.mkdir()
    if status is not None:
        (work / "status").write_text(status + "\n")
        (work / "message").write_text(f"{message}\n")
    bin_dir = tmp_path / "bin"
    _stand_in(bin_dir, "curl", f'for a; do last="$a"; done; echo "$last" >> {tmp_path}/pings.log')
    result = _run(dbs.REPORT_SCRIPT, tmp_path, {"HC_URL": "https://hc/x"}, bin_dir)
    assert result.returncode == exit_code
    assert (tmp_path / "pings.log").read_text().split() == [pinged]
