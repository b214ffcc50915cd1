"""manifests/nas_config.py: the NAS cron job's command, run for real with sqlite3, tar and a stand-in curl on a
copy of the NAS's /data: it writes config.save's bundle (freenas-v1.db + pwenc_secret), consistent and checked,
rotates, pings, and fails loudly."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from manifests.nas_config import MEMBERS, export_command
from tests.manifests import dbs_estate

PING = "https://hc-ping.com/KEY/backup-nas-config-export"


def _nas(tmp_path: Path, seed: bytes | None = b"\x01" * 32) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "freenas-v1.db") as db:
        db.execute("create table system_settings (id integer primary key, stg_timezone text)")
        db.execute("insert into system_settings (stg_timezone) values ('Europe/Berlin')")
        db.execute("create table system_keyvalue (key text, value text)")
        db.executemany("insert into system_keyvalue values (?, ?)", [(f"k{i}", "v" * 100) for i in range(500)])
    if seed is not None:
        (data / "pwenc_secret").write_bytes(seed)
    return data


def _run(tmp_path: Path, command: str, data: Path) -> subprocess.CompletedProcess[str]:
    unit = dbs_estate.unit("nas-config")
    mnt = tmp_path / "mnt"
    local = command.replace("/data/", f"{data}/").replace(unit.plan.export.target_path,
                                                         str(mnt / "nas-config"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "curl").write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {tmp_path}/pings.log\n')
    (bin_dir / "curl").chmod(0o755)
    return subprocess.run(["/bin/sh", "-c", local], env={"PATH": f"{bin_dir}:{os.environ['PATH']}"},
                          capture_output=True, text=True, check=False, timeout=60)


def test_the_command_is_one_line_and_names_the_unit() -> None:
    command = export_command(dbs_estate.unit("nas-config"), PING)
    assert "\n" not in command and "/mnt/tank/app-dumps/nas-config" in command and PING in command
    assert PING not in export_command(dbs_estate.unit("nas-config"))


def test_other_units_are_refused() -> None:
    with pytest.raises(ValueError, match="not a NAS configuration export"):
        export_command(dbs_estate.unit("nextcloud-db"))


def test_it_writes_config_saves_bundle_and_keeps_the_newest(tmp_path: Path) -> None:
    data = _nas(tmp_path)
    folder = tmp_path / "mnt" / "nas-config"
    folder.mkdir(parents=True)
    for day in range(1, 33):
        (folder / f"nas-config-202601{day:02d}T021000Z.tar").write_text("old")
    (folder / "notes.txt").write_text("keep me")
    result = _run(tmp_path, export_command(dbs_estate.unit("nas-config"), PING), data)
    assert result.returncode == 0, result.stderr
    bundles = sorted(p for p in folder.iterdir() if p.suffix == ".tar")
    assert len(bundles) == dbs_estate.unit("nas-config").plan.export.keep
    newest = bundles[-1]
    assert not newest.name.startswith("nas-config-202601") and oct(newest.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(newest) as tar:
        assert sorted(tar.getnames()) == sorted(MEMBERS)
        tar.extractall(tmp_path / "restored", filter="data")
    assert (tmp_path / "restored" / "pwenc_secret").read_bytes() == b"\x01" * 32
    with sqlite3.connect(tmp_path / "restored" / "freenas-v1.db") as db:
        assert db.execute("select stg_timezone from system_settings").fetchall() == [("Europe/Berlin",)]
        assert db.execute("select count(*) from system_keyvalue").fetchone() == (500,)
    assert (folder / "notes.txt").exists() and not list(folder.glob(".*partial"))
    assert (tmp_path / "pings.log").read_text().split() == [PING]


def test_a_missing_seed_fails_pings_fail_and_leaves_nothing(tmp_path: Path) -> None:
    data = _nas(tmp_path, seed=None)
    result = _run(tmp_path, export_command(dbs_estate.unit("nas-config"), PING), data)
    assert result.returncode == 1
    folder = tmp_path / "mnt" / "nas-config"
    assert list(folder.iterdir()) == []
    assert (tmp_path / "pings.log").read_text().split() == [f"{PING}/fail"]


def test_a_corrupt_database_is_not_exported(tmp_path: Path) -> None:
    data = _nas(tmp_path)
    (data / "freenas-v1.db").write_bytes(b"this is not a database" * 100)
    result = _run(tmp_path, export_command(dbs_estate.unit("nas-config")), data)
    assert result.returncode == 1 and not list((tmp_path / "mnt" / "nas-config").glob("*.tar"))
