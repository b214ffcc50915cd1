"""Site-loss drill: the NAS and the cluster are gone. Starting from nothing but the runbook generated from the stack
outputs, the escrowed secrets and the offsite bucket (no Pulumi state, no cluster, no NAS), restore one Tier 1
dataset of each kind with the commands the runbook prints:

- a restic PVC repository written by real restic with the repository Secret the program rendered;
- a pgBackRest stanza, to a point in time, written by real PostgreSQL and pgBackRest through the rendered Stanza;
- a TrueNAS encrypted cloud sync copy, written by real rclone exactly as TrueNAS runs the task the program created.

The commands come from the runbook text (`tests/drills/runbook_text.py`): only the placeholders its fill-in table
lists are replaced, so a runbook that is missing a step, or a value it never says where to find, fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from providers.truenas.client import ConnectionSettings, TrueNASClient
from tests.drills.estate import DrillEstate
from tests.drills.helpers import (
    builder_env,
    header_counts,
    require_tool,
    restic_run,
    tool_version,
    tree_digest,
    tree_size,
    write_generation,
)
from tests.drills.postgres import PgCluster, as_pg_user, give_to_pg_user, pg_bindir, run
from tests.drills.records import RECORDS, DrillRecord
from tests.drills.runbook_text import commands
from tests.drills.site_estate import (
    NAS_DATASET,
    NAS_DESTINATIONS,
    PG_DATASET,
    RESTIC_DATASET,
    RESTIC_DESTINATION,
    site_estate,
)
from tests.drills.stanza import drill_stanza
from tests.drills.truenas_push import push
from tests.engine.project import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.engine]

CHECKSUM = "select count(*) || ':' || md5(string_agg(id::text || '=' || payload, ',' order by id)) from ledger"
SOCKETS = Path("/var/run/postgresql")
"""Where a restored server on a Debian machine puts its socket (the runbook leaves the server's defaults alone)."""


@dataclass
class Lost:
    """What is left after the site is gone, and what the restores must give back."""

    outputs: Path
    """`pulumi stack output --json` as saved before the loss: no secret values."""
    escrow: dict[str, Any]
    """The password manager: the `secrets` output and the writer keys of the `credentials` output."""
    runbooks: Path
    ca: Path
    """The S3 servers' CA, standing in for the restoring machine's trust store."""
    work: Path
    restic_expected: dict[str, str] = field(default_factory=dict)
    pg_at_target: str = ""
    pg_target_time: str = ""
    nas_expected: dict[str, str] = field(default_factory=dict)
    nas_copy: dict[str, Any] = field(default_factory=dict)

    def values(self, machine: Mapping[str, str]) -> dict[str, str]:
        """What the reader fills in: escrow and writer keys by their path, then this machine's choices."""
        values = dict(machine)
        for kind in ("secrets", "credentials"):
            values |= {f"<{path}>": value for path, value in _leaves(self.escrow[kind], kind)}
        return values

    def runbook(self, dataset: str) -> str:
        return (self.runbooks / f"{dataset}.md").read_text()


def _leaves(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    else:
        yield path, str(node)


def _nas_tasks(nas: Any) -> list[dict[str, Any]]:
    settings = ConnectionSettings.from_dict({"url": nas.url, "api_key": nas.api_key, "ca_file": str(nas.pki["ca"])})
    with TrueNASClient(settings) as api:
        return api.call("cloudsync.query")


def _write_restic(estate: DrillEstate, work: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "RESTIC_CACHE_DIR": str(work / "cache"),
           **builder_env(estate, RESTIC_DATASET, RESTIC_DESTINATION)}
    source = work / "pvc"
    source.mkdir()
    restic_run(env, "init")
    for generation in range(2):
        write_generation(source, generation)
        restic_run(env, "backup", "--host", "site", ".", cwd=source)
    expected = tree_digest(source)
    shutil.rmtree(source)
    return expected


def _write_pg(estate: DrillEstate, base: Path) -> tuple[str, str]:
    """A cluster archiving and backing up through the rendered Stanza; returns (checksum at target, target time)."""
    setup = drill_stanza(base, estate.certs.ca, estate.one("Stanza", PG_DATASET), estate.resolve)
    conf, mapped, port = setup.conf, setup.options, setup.port

    def pgbackrest(*args: str) -> None:
        run(["pgbackrest", f"--config={conf}", f"--stanza={mapped.stanza}", *args], timeout=300)

    primary = PgCluster(base, "primary", port)
    try:
        primary.initdb({"wal_level": "replica", "archive_mode": "on", "fsync": "off",
                        "checkpoint_completion_target": "0",
                        "archive_command": f"'pgbackrest --config={conf} --stanza={mapped.stanza} archive-push %p'"})
        primary.start()
        pgbackrest("stanza-create")
        primary.sql("create table ledger (id bigint primary key, payload text not null)")
        primary.sql("insert into ledger select g, md5(g::text) || repeat('y', 48) from generate_series(1, 30000) g")
        pgbackrest("backup", "--repo=1", "--type=full")
        primary.sql("insert into ledger select g, md5(g::text) from generate_series(30001, 36000) g")
        primary.sql("insert into ledger values (0, 'the last good transaction')")
        at_target = primary.sql(CHECKSUM)
        # Whole seconds (as a reader types them) strictly between the good commit and the bad change.
        time.sleep(1.2)
        target = primary.sql("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'")
        time.sleep(1.2)
        primary.sql("delete from ledger where id % 2 = 0")
        primary.sql("insert into ledger select g, 'after the mistake' from generate_series(90001, 90500) g")
        pgbackrest("check")  # switches WAL and waits until every repository has archived it
        return at_target, target
    finally:
        primary.stop()


def _write_nas(estate: DrillEstate, nas: Any, work: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Every cloud sync task of the NAS dataset run once, as TrueNAS runs it; returns (digest, restored copy)."""
    source = work / "nas-dataset"
    source.mkdir()
    write_generation(source, 0)
    (source / "latest").unlink()  # TrueNAS's tasks do not follow symlinks, and rclone skips them: not data to lose
    (source / "#notes with a hash.txt").write_text("a name that rclone filters could read as a comment\n")
    tasks = _nas_tasks(nas)
    copies = estate.runbook["datasets"][NAS_DATASET]["copies"]
    assert [c["destination"] for c in copies] == list(NAS_DESTINATIONS)
    assert len(tasks) == len(copies), tasks
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "RCLONE_CA_CERT": str(estate.certs.ca)}
    marks = (estate.plain.mark(), estate.tls.mark())
    for task in tasks:
        assert (task["encryption"], task["filename_encryption"]) == (True, True), task["description"]
        push(task, source, work, env)
    counts = header_counts(estate.plain.since(marks[0]) + estate.tls.since(marks[1]))
    RECORDS.findings.append(
        f"{tool_version(['rclone', 'version'])} (TrueNAS cloud sync layout, crypt over S3): {counts['content-md5']}/"
        f"{counts['requests']} PUTs carried Content-MD5; uploads into the Tier 1 buckets with default GOVERNANCE "
        "retention were accepted")
    assert counts["requests"] and counts["content-md5"] == counts["requests"], counts
    expected = tree_digest(source)
    shutil.rmtree(source)
    return expected, copies[0]


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lost]:
    for tool in ("restic", "pgbackrest", "rclone"):
        require_tool(tool)
    work = Path(tempfile.mkdtemp(prefix="hlb-site-loss-"))
    work.chmod(0o755)
    try:
        with site_estate(tmp_path_factory.mktemp("site-estate")) as (estate, nas):
            public = estate.project.outputs("local")
            assert public["secrets"] == "[secret]" and public["credentials"] == "[secret]"
            outputs = work / "outputs.json"
            outputs.write_text(json.dumps(public))
            escrow = {kind: estate.outputs[kind] for kind in ("secrets", "credentials")}
            ca = work / "ca.pem"
            shutil.copyfile(estate.certs.ca, ca)
            ca.chmod(0o644)
            state = Lost(outputs, escrow, work / "runbooks", ca, work)
            state.restic_expected = _write_restic(estate, work)
            pg_base = work / "pg-site"
            pg_base.mkdir(mode=0o755)
            give_to_pg_user(pg_base)
            state.pg_at_target, state.pg_target_time = _write_pg(estate, pg_base)
            state.nas_expected, state.nas_copy = _write_nas(estate, nas, work)
            # The site goes: the NAS, the database server and its data, the Pulumi project and its state.
            nas.stop()
            shutil.rmtree(pg_base)
            shutil.rmtree(estate.project.dir)
            shutil.rmtree(estate.project.state)
            generate = subprocess.run([sys.executable, "-m", "runbook", "generate", "--from", str(outputs), "--out",
                                       str(state.runbooks)], cwd=ROOT, capture_output=True, text=True, check=False)
            assert generate.returncode == 0, generate.stderr
            yield state  # the S3 server (the offsite bucket) stays up until the module ends
    finally:
        for data in work.glob("machine-*/pg-data"):
            subprocess.run(as_pg_user([str(pg_bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


def _machine(lost: Lost, name: str) -> Path:
    """An empty folder on the restoring machine (readable by the PostgreSQL user, which restores the database)."""
    machine = lost.work / f"machine-{name}"
    machine.mkdir(mode=0o755)
    give_to_pg_user(machine)
    return machine


def _run_runbook(script: str, machine: Path, env: Mapping[str, str], as_postgres: bool = False,
                 ) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = ["bash", "-euo", "pipefail", "-c", script]
    started = time.monotonic()
    result = subprocess.run(as_pg_user(command) if as_postgres else command, cwd=machine, env=dict(env),
                            capture_output=True, text=True, errors="replace", timeout=600, check=False)
    seconds = time.monotonic() - started  # errors="replace": a broken runbook may decrypt to bytes that are no text
    assert result.returncode == 0, f"runbook commands failed ({result.returncode}):\n{script}\n{result.stdout}\n" \
                                   f"{result.stderr}"
    return seconds, result


def _base_env(machine: Path) -> dict[str, str]:
    return {"PATH": f"{pg_bindir()}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(machine), "LC_ALL": "C"}


def test_nothing_but_the_runbook_escrow_and_bucket_is_left(lost: Lost) -> None:
    assert sorted(p.name for p in lost.runbooks.iterdir()) == sorted(
        ["README.md", "estate.svg", f"{RESTIC_DATASET}.md", f"{PG_DATASET}.md", f"{NAS_DATASET}.md", "grafana.md",
         "home-assistant.md"])
    text = "".join(p.read_text() for p in lost.runbooks.iterdir())
    assert not [v for _, v in _leaves(lost.escrow["secrets"], "secrets") if v in text], \
        "the runbooks were generated without --show-secrets: no escrowed value may be in them"
    assert not [p for p in lost.work.iterdir() if p.name in ("pg-site", "nas-dataset", "pvc")]


def test_restic_pvc_repository_from_the_runbook(lost: Lost) -> None:
    machine = _machine(lost, "restic")
    script = commands(lost.runbook(RESTIC_DATASET), f"From copy `{RESTIC_DESTINATION}` with restic", lost.values({}))
    seconds, _ = _run_runbook(script, machine, _base_env(machine))
    restored = machine / "restored"
    assert tree_digest(restored) == lost.restic_expected
    files, size = tree_size(restored)
    RECORDS.drills.append(DrillRecord("site loss (runbook): restic PVC", "restic / S3", seconds, size, files,
                                      "checksums equal"))


def test_pgbackrest_point_in_time_from_the_runbook(lost: Lost) -> None:
    machine = _machine(lost, "pg")
    if not SOCKETS.is_dir():  # what Debian's postgresql-common creates for every server
        SOCKETS.mkdir(parents=True)
        give_to_pg_user(SOCKETS)
    data = machine / "pg-data"
    data.mkdir(mode=0o700)
    give_to_pg_user(data)
    port = free_port()
    script = commands(lost.runbook(PG_DATASET), "With pgBackRest on any machine",
                      lost.values({"<pg-data>": str(data), "<target-time>": lost.pg_target_time}))
    env = _base_env(machine) | {"PGPORT": str(port)}
    env |= {f"PGBACKREST_REPO{n}_STORAGE_CA_FILE": str(lost.ca) for n in (1, 2)}
    seconds, _ = _run_runbook(script, machine, env, as_postgres=True)
    restored = PgCluster(SOCKETS, "unused", port)
    restored.data = data
    try:
        started = time.monotonic()
        restored.wait_until("select pg_is_in_recovery()", "f", timeout=120)
        seconds += time.monotonic() - started
        assert restored.sql(CHECKSUM) == lost.pg_at_target
        assert restored.sql("select payload from ledger where id = 0") == "the last good transaction"
        assert restored.sql("select count(*) from ledger where id > 90000") == "0"
    finally:
        restored.stop()
    files, size = tree_size(data)
    rows = lost.pg_at_target.split(":")[0]
    RECORDS.drills.append(DrillRecord("site loss (runbook): pgBackRest PITR", "pgBackRest / S3 TLS", seconds,
                                      size, files, f"rows/md5 equal at the target time: {rows} rows"))


def _restore_nas(lost: Lost, runbook: str, name: str) -> tuple[float, dict[str, str]]:
    machine = _machine(lost, name)
    script = commands(runbook, f"From copy `{lost.nas_copy['destination']}` with rclone", lost.values({}))
    seconds, _ = _run_runbook(script, machine, _base_env(machine) | {"RCLONE_CA_CERT": str(lost.ca)})
    return seconds, tree_digest(machine / "restored")


def test_truenas_cloud_sync_copy_from_the_runbook(lost: Lost) -> None:
    seconds, restored = _restore_nas(lost, lost.runbook(NAS_DATASET), "rclone")
    assert restored == lost.nas_expected
    files, size = tree_size(lost.work / "machine-rclone" / "restored")
    RECORDS.drills.append(DrillRecord("site loss (runbook): TrueNAS cloud sync", "rclone crypt / S3", seconds,
                                      size, files, "checksums equal; cryptcheck passed"))


def test_a_runbook_without_a_step_fails_the_drill(lost: Lost) -> None:
    """The drill depends on the text: without the line that sets the salt, nothing of the copy comes back."""
    text = lost.runbook(NAS_DATASET)
    broken = "\n".join(line for line in text.splitlines() if "RCLONE_CONFIG_COPY_PASSWORD2" not in line)
    assert broken != text
    try:
        _, restored = _restore_nas(lost, broken, "gap")
    except AssertionError as failed:
        assert "runbook commands failed" in str(failed)
    else:
        assert restored != lost.nas_expected
