"""Export CronJobs: valid, hardened, on the plan's slot, and their scripts keep exactly `keep` dumps."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inventory.models import Truenas
from manifests import exports
from tests.manifests import crd_schema, estate
from tests.manifests.jobs import FAKE_SQLITE3


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _env(job: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _pod(job)["containers"][0]["env"]}


@pytest.mark.parametrize("name", ["grafana-db", "immich-dump"])
def test_export_cronjob_is_valid_hardened_and_on_schedule(name: str) -> None:
    ds, dp = estate.dataset(name)
    job = exports.export_cronjob(ds, nas=estate.inventory().truenas, pings=estate.PINGS)
    assert crd_schema.validate(job) == []
    spec = job["spec"]
    assert spec["schedule"] == dp.export.schedule.five_field() and len(spec["schedule"].split()) == 5
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = _pod(job)
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert {"name": "backup", "nfs": {"server": estate.NAS, "path": "/mnt/storage0/photos"}} in pod["volumes"]
    env = _env(job)
    assert env["OUT"] == f"/backup/{name}" and env["KEEP"] == str(dp.export.keep)
    assert env["HC_URL"] == estate.ping_ref(name, f"backup-{name}-export")
    assert job["metadata"]["labels"]["backup.homelab/destination"] == "photos"


def test_sqlite_export_mounts_the_app_claim_read_only() -> None:
    ds, dp = estate.dataset("grafana-db")
    job = exports.export_cronjob(ds, nas=estate.inventory().truenas)
    pod = _pod(job)
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "grafana", "readOnly": True}} in pod["volumes"]
    container = pod["containers"][0]
    assert {"name": "data", "mountPath": "/data", "readOnly": True} in container["volumeMounts"]
    assert container["image"] == exports.SQLITE_IMAGE
    assert ".backup" in container["command"][2] and "PRAGMA integrity_check" in container["command"][2]
    assert _env(job)["SQLITE_PATH"] == "grafana.db"
    assert "HC_URL" not in _env(job)


def test_pg_dump_export_uses_custom_format_and_the_credentials_secret() -> None:
    ds, dp = estate.dataset("immich-dump")
    job = exports.export_cronjob(ds, nas=estate.inventory().truenas)
    container = _pod(job)["containers"][0]
    script = container["command"][2]
    assert "pg_dump --format=custom" in script and "pg_restore --list" in script
    env = _env(job)
    assert env["PGHOST"] == "postgres18-immich-rw.database.svc" and env["PGDATABASE"] == "immich"
    for key in ("PGUSER", "PGPASSWORD"):
        assert env[key] == {"secretKeyRef": {"name": "immich-db-dump", "key": key}}
    assert container["image"] == exports.PG_DUMP_IMAGE


def test_nfs_host_prefers_the_mount_name_and_drops_the_api_port() -> None:
    assert exports.nfs_host(Truenas(host="citadel.internal:443")) == "citadel.internal"
    assert exports.nfs_host(Truenas(host="citadel.internal", nfs_host="10.0.0.5")) == "10.0.0.5"


def test_unsafe_sqlite_paths_are_refused() -> None:
    ds, dp = estate.dataset("grafana-db")
    for path in ("/abs/grafana.db", "../grafana.db", "it's.db"):
        bad = replace(ds, source=ds.source.model_copy(update={"sqlite_path": path}))
        with pytest.raises(ValueError, match="plain path relative"):
            exports.export_cronjob(bad, nas=estate.inventory().truenas)


def test_other_datasets_are_refused() -> None:
    ds, dp = estate.dataset("vaultwarden")
    with pytest.raises(TypeError, match="export datasets"):
        exports.export_cronjob(ds, nas=estate.inventory().truenas)




def test_sqlite_script_backs_up_checks_and_keeps_the_newest(tmp_path: Path) -> None:
    ds, dp = estate.dataset("grafana-db")
    job = exports.export_cronjob(ds, nas=estate.inventory().truenas, pings=True)
    script = _pod(job)["containers"][0]["command"][2]
    data, work, out = tmp_path / "data", tmp_path / "work", tmp_path / "backup" / "grafana-db"
    for directory in (data, work, out):
        directory.mkdir(parents=True)
    with sqlite3.connect(data / "grafana.db") as db:
        db.execute("create table dashboards (id integer primary key, title text)")
        db.execute("insert into dashboards (title) values ('home')")
    for day in range(1, 20):
        (out / f"grafana-db-202001{day:02d}T015000Z.sqlite3").write_text("old")
    (out / "unrelated.txt").write_text("keep me")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sqlite3").write_text(f"#!{sys.executable}\n{FAKE_SQLITE3}")
    (bin_dir / "curl").write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {tmp_path}/hc.log\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**{e["name"]: e["value"] for e in _pod(job)["containers"][0]["env"] if "value" in e},
           "HC_URL": "http://hc/backup-grafana-db-export", "PATH": f"{bin_dir}:{os.environ['PATH']}", "OUT": str(out)}
    localized = script.replace("/work/", f"{work}/").replace("file:/data/", f"file:{data}/")
    result = subprocess.run(["/bin/sh", "-c", localized], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    dumps = sorted(p.name for p in out.iterdir() if p.suffix == ".sqlite3")
    assert len(dumps) == dp.export.keep and not dumps[-1].startswith("grafana-db-202001")
    with sqlite3.connect(out / dumps[-1]) as restored:
        assert restored.execute("select title from dashboards").fetchall() == [("home",)]
    assert (out / "unrelated.txt").exists() and not list(out.glob(".*partial"))
    assert (tmp_path / "hc.log").read_text().strip() == env["HC_URL"]


def test_pg_dump_script_verifies_the_archive_and_reports_failure(tmp_path: Path) -> None:
    ds, dp = estate.dataset("immich-dump")
    job = exports.export_cronjob(ds, nas=estate.inventory().truenas, pings=True)
    script = _pod(job)["containers"][0]["command"][2]
    work, out = tmp_path / "work", tmp_path / "backup" / "immich-dump"
    work.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pg_dump").write_text(
        '#!/bin/sh\nfor a; do case "$a" in --file=*) echo PGDMP > "${a#--file=}";; esac; done\n'
    )
    (bin_dir / "curl").write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {tmp_path}/hc.log\n')
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "OUT": str(out), "PREFIX": "immich-dump", "KEEP": "7",
           "HC_URL": "http://hc/x"}
    localized = script.replace("/work/", f"{work}/")

    def run(pg_restore_status: int) -> int:
        (bin_dir / "pg_restore").write_text(f"#!/bin/sh\nexit {pg_restore_status}\n")
        for tool in bin_dir.iterdir():
            tool.chmod(0o755)
        return subprocess.run(["/bin/sh", "-c", localized], env=env, capture_output=True, check=False).returncode

    assert run(0) == 0
    assert [p.suffix for p in out.iterdir()] == [".dump"]
    assert run(1) != 0, "an unreadable archive must fail the job"
    assert len(list(out.iterdir())) == 1
    assert (tmp_path / "hc.log").read_text().splitlines() == ["http://hc/x", "http://hc/x/fail"]
