"""What R2 bucket locks do to the real tools: restic and pgBackRest run a Tier 1 R2 copy's life (backups, a second
backup, forget/prune, expire; then the same after the objects aged past the lock) against the loopback server in R2
mode, once under the lock rule the program used to give Tier 1 R2 buckets and once with no lock.

The results are printed beside the restore drill table and are the evidence for the rule the program, plan,
inventory, pack and runbook share: R2 buckets that hold repositories carry no lock rule, and every Tier 1 dataset
keeps a copy in a versioned, object-locked bucket elsewhere.

Under the lock every restic command that takes a lock ends waiting out restic 0.14's retries of its refused
lock-file delete (about 95 s of back-off, no CPU), so restic's life under the lock is cut in two that run side by
side: the young half (init, one backup, forget, prune: the lock refuses the lock-file delete and the stale lock stops
forget and prune) and the aged half (a repository whose config and keys are older than the lock: its backup's own
lock file is young again, so ageing past the lock does not help). A second backup under the lock would only repeat the
first's refused deletes, and a restore that takes a lock would add one more wait, so the locked halves check the
restore lock-free (`--no-lock`, restic's way of reading a repository it cannot lock). The no-lock lives run whole.
All lives run at once, each against its own R2-mode server, because each moves its server's clock on its own
schedule: the drill lasts as long as its longest life (one back-off) instead of the sum of them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from plan.capabilities import capabilities_of
from tests.drills.front import S3Front
from tests.drills.helpers import require_tool, tree_digest, write_generation
from tests.drills.postgres import PgCluster, run
from tests.drills.r2 import (
    LOCK_DAYS_BEFORE,
    PG_DATASET,
    PVC_DATASET,
    R2_DESTINATION,
    DrillRun,
    R2Estate,
    pg_resolve,
    pg_stanza,
    program_lock_rules,
    r2_estate,
    restic_env,
)
from tests.drills.records import RECORDS
from tests.drills.stanza import drill_stanza, pg_work_dir
from tests.drills.tls import Certificates, make_certificates
from tests.r2_standin.running import RunningR2, r2_server, rest_rules

pytestmark = [pytest.mark.slow]

DAY = 86400
PROGRAM_RULE = f"Age {LOCK_DAYS_BEFORE} d, prefix ''"
DESIGNS = {PROGRAM_RULE: program_lock_rules(LOCK_DAYS_BEFORE), "no lock": []}
"""Lock design -> the R2BucketLock rules (as the program declares them) put on the bucket before the first write."""
AGE_PAST_LOCK = (LOCK_DAYS_BEFORE + 1) * DAY
WHOLE, YOUNG, AGED = "whole", "young", "aged"
"""Which part of restic's life a run covers: all of it, up to the first prune, or from the clock past the lock on."""
_buckets = itertools.count()


@dataclass
class R2Drill:
    server: RunningR2
    tls: S3Front
    certs: Certificates
    estate: R2Estate
    workdir: Path

    def bucket(self, tool: str, rules: list[dict[str, Any]]) -> str:
        name = f"hlb-r2-drill-{tool}-{next(_buckets)}"
        self.server.s3().create_bucket(Bucket=name)
        status, answer = self.server.put_lock(name, rest_rules(rules))
        assert status == 200, answer
        return name


@contextlib.contextmanager
def r2_drill(workdir: Path, estate: R2Estate) -> Iterator[R2Drill]:
    """An R2-mode server of its own (its own clock) with a TLS front, for one life."""
    certs = make_certificates(workdir / "tls")
    with r2_server() as server, S3Front(server.port, certs.cert, certs.key) as tls:
        yield R2Drill(server, tls, certs, estate, workdir)


def _restic(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["restic", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False)


def restic_life(drill: R2Drill, design: str, half: str = WHOLE) -> tuple[DrillRun, bool]:
    """Run the restic copy's life (or one half of it) under one design; (steps, whether the last snapshot restores
    byte for byte)."""
    bucket = drill.bucket("restic", DESIGNS[design])
    home = drill.workdir / f"restic-{bucket}"
    source = home / "data"
    source.mkdir(parents=True)
    env, planned_flags = restic_env(drill.estate, drill.server.endpoint, bucket, home)
    life = DrillRun("restic", design if half == WHOLE else f"{design}, {half}")
    refused = drill.server.refused
    life.run("init", lambda: _restic(env, "init"), refused)
    write_generation(source, 0)
    if half in (WHOLE, YOUNG):
        life.run("backup 1", lambda: _restic(env, "backup", "--host", "drill", ".", cwd=source), refused)
        if half == WHOLE:
            write_generation(source, 1)
            life.run("backup 2", lambda: _restic(env, "backup", "--host", "drill", ".", cwd=source), refused)
        life.run(f"forget {' '.join(planned_flags)}", lambda: _restic(env, "forget", *planned_flags), refused)
        life.run("forget --keep-last 1", lambda: _restic(env, "forget", "--keep-last", "1"), refused)
        life.run("prune", lambda: _restic(env, "prune"), refused)
    if half in (WHOLE, AGED):
        drill.server.advance(AGE_PAST_LOCK)
        write_generation(source, 2)
        life.run("[+15 d] backup", lambda: _restic(env, "backup", "--host", "drill", ".", cwd=source), refused)
        life.run("[+15 d] forget --keep-last 1", lambda: _restic(env, "forget", "--keep-last", "1"), refused)
        life.run("[+15 d] prune", lambda: _restic(env, "prune"), refused)
        life.run("check", lambda: _restic(env, "check"), refused)
    target = home / "restored"
    lock_free = ["--no-lock"] if half != WHOLE else []
    restored = _restic(env, *lock_free, "restore", "latest", "--target", str(target))
    return life, restored.returncode == 0 and tree_digest(target) == tree_digest(source)


def _insert(cluster: PgCluster, first: int, last: int) -> None:
    cluster.sql(f"insert into drill select g, md5(g::text) from generate_series({first}, {last}) g")


def pgbackrest_life(drill: R2Drill, design: str) -> tuple[DrillRun, list[str]]:
    """Run the pgBackRest copy's life under one design; (steps, backup types `info` lists at the end)."""
    bucket = drill.bucket("pgbackrest", DESIGNS[design])
    stanza = pg_stanza(drill.estate, drill.tls.endpoint, bucket)
    base = pg_work_dir("hlb-r2-pg-")
    setup = drill_stanza(base, drill.certs.ca, stanza, pg_resolve, repositories=1)
    conf, mapped, port = setup.conf, setup.options, setup.port

    def pgbackrest(*args: str) -> subprocess.CompletedProcess[str]:
        return run(["pgbackrest", f"--config={conf}", f"--stanza={mapped.stanza}", *args], timeout=300, check=False)

    primary = PgCluster(base, "primary", port)
    life = DrillRun("pgBackRest", design)
    refused = drill.server.refused
    try:
        primary.initdb({"wal_level": "replica", "archive_mode": "on", "fsync": "off",
                        "checkpoint_completion_target": "0",
                        "archive_command": f"'pgbackrest --config={conf} --stanza={mapped.stanza} archive-push %p'"})
        primary.start()
        primary.sql("create table drill (id bigint primary key, payload text not null)")
        life.run("stanza-create", lambda: pgbackrest("stanza-create"), refused)
        life.run("check (archive-push)", lambda: pgbackrest("check"), refused)
        _insert(primary, 1, 20_000)
        life.run("backup 1 (full)", lambda: pgbackrest("backup", "--repo=1", "--type=full"), refused)
        _insert(primary, 20_001, 30_000)
        life.run("backup 2 (diff)", lambda: pgbackrest("backup", "--repo=1", "--type=diff"), refused)
        life.run("backup 3 (full)", lambda: pgbackrest("backup", "--repo=1", "--type=full"), refused)
        full = stanza["spec"]["stanzaConfiguration"]["s3Repositories"][0]["retentionPolicy"]["full"]
        life.run(f"expire (planned: {full} fulls)", lambda: pgbackrest("expire", "--repo=1"), refused)
        life.run("expire --repo1-retention-full=1",
                 lambda: pgbackrest("expire", "--repo=1", "--repo1-retention-full=1"), refused)
        drill.server.advance(AGE_PAST_LOCK)
        _insert(primary, 30_001, 40_000)
        life.run("[+15 d] backup 4 (full)", lambda: pgbackrest("backup", "--repo=1", "--type=full"), refused)
        life.run("[+15 d] expire --repo1-retention-full=1",
                 lambda: pgbackrest("expire", "--repo=1", "--repo1-retention-full=1"), refused)
        life.run("verify", lambda: pgbackrest("verify", "--repo=1"), refused)
        info = pgbackrest("info", "--output=json")
        backups = [b["type"] for b in json.loads(info.stdout)[0]["backup"]] if info.returncode == 0 else []
        return life, backups
    finally:
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


LIVES = [("restic", PROGRAM_RULE, YOUNG), ("restic", PROGRAM_RULE, AGED), ("restic", "no lock", WHOLE),
         ("pgBackRest", PROGRAM_RULE, WHOLE), ("pgBackRest", "no lock", WHOLE)]
"""(tool, design, half) in the order the table prints them: restic's life under the lock runs as two halves at once
(module docstring)."""


def _life(drill: R2Drill, tool: str, design: str, half: str) -> tuple[DrillRun, Any]:
    if tool == "restic":
        return restic_life(drill, design, half)
    return pgbackrest_life(drill, design)


@pytest.fixture(scope="module")
def planned() -> R2Estate:
    return r2_estate()


@pytest.fixture(scope="module")
def lives(planned: R2Estate, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[DrillRun, Any]]:
    """Every life, run at once: (tool, the life's design label) -> (steps, the tool's final result)."""
    require_tool("restic")
    require_tool("pgbackrest")
    workdirs = {life: tmp_path_factory.mktemp(f"r2-drill-{life[0]}") for life in LIVES}

    def live(tool: str, design: str, half: str) -> tuple[DrillRun, Any, float]:
        started = time.monotonic()
        with r2_drill(workdirs[tool, design, half], planned) as drill:
            return (*_life(drill, tool, design, half), time.monotonic() - started)

    with ThreadPoolExecutor(len(LIVES)) as pool:
        futures = [pool.submit(live, *life) for life in LIVES]
    results: dict[tuple[str, str], tuple[DrillRun, Any]] = {}
    for life, result, seconds in (f.result() for f in futures):
        results[life.tool, life.design] = (life, result)
        took = f" ({seconds:.0f} s)"  # the longest life is the drill's wall time
        if life.tool == "restic":
            RECORDS.add_lock_run(life, f"restore latest {'equal' if result else 'FAILED'}{took}")
        else:
            RECORDS.add_lock_run(life, f"info lists {result}{took}")
    return results


@pytest.fixture(scope="module")
def restic_lives(lives: dict[tuple[str, str], tuple[DrillRun, Any]]) -> dict[str, tuple[DrillRun, bool]]:
    return {design: result for (tool, design), result in lives.items() if tool == "restic"}


@pytest.fixture(scope="module")
def pgbackrest_lives(lives: dict[tuple[str, str], tuple[DrillRun, Any]]) -> dict[str, tuple[DrillRun, list[str]]]:
    return {design: result for (tool, design), result in lives.items() if tool == "pgBackRest"}


def test_the_drill_uses_the_settings_the_program_gives_a_tier_1_r2_copy(planned: R2Estate) -> None:
    estate = planned
    for dataset in (PVC_DATASET, PG_DATASET):
        copy = estate.copy(dataset)
        assert (copy.kind, copy.region, copy.checksum_env, estate.plan.dataset(dataset).tier) == ("r2", "auto", True, 1)
    env, flags = restic_env(estate, "http://loopback", "bucket", Path("/nonexistent"))
    assert flags == ["--keep-daily", "30", "--keep-monthly", "12"]
    assert env["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_required"
    assert env["RESTIC_REPOSITORY"] == "s3:http://loopback/bucket/volsync/apps/vault-data"


def test_restic_survives_no_lock(restic_lives: dict[str, tuple[DrillRun, bool]]) -> None:
    life, restores = restic_lives["no lock"]
    assert [s.outcome for s in life.steps] == ["ok"] * len(life.steps), life.steps
    assert restores


def test_restic_under_the_program_rule(restic_lives: dict[str, tuple[DrillRun, bool]]) -> None:
    life, _ = restic_lives[f"{PROGRAM_RULE}, {YOUNG}"]
    assert life.step("init").outcome == "ok" and life.step("backup 1").exit_code == 0
    refused = [s.name for s in life.steps if s.denials]
    assert refused, "no mutation was refused: the lock rule did not reach restic's lock files or packs"
    assert life.step("prune").exit_code != 0 or life.step("prune").denials, life.step("prune")


def test_restic_under_the_program_rule_does_not_recover_once_the_repository_is_older_than_the_lock(
        restic_lives: dict[str, tuple[DrillRun, bool]]) -> None:
    life, restores = restic_lives[f"{PROGRAM_RULE}, {AGED}"]
    backup = life.step("[+15 d] backup")
    assert backup.exit_code == 0 and backup.denials, backup  # its own lock file is young when it deletes it
    assert life.step("[+15 d] prune").exit_code != 0, life.step("[+15 d] prune")
    assert life.step("check").exit_code != 0, life.step("check")
    assert restores, "data written under the lock did not restore"


def test_pgbackrest_survives_no_lock(pgbackrest_lives: dict[str, tuple[DrillRun, list[str]]]) -> None:
    life, backups = pgbackrest_lives["no lock"]
    assert [s.outcome for s in life.steps] == ["ok"] * len(life.steps), life.steps
    assert backups == ["full"]


def test_pgbackrest_under_the_program_rule(pgbackrest_lives: dict[str, tuple[DrillRun, list[str]]]) -> None:
    life, _ = pgbackrest_lives[PROGRAM_RULE]
    assert life.step("stanza-create").outcome == "ok"
    backup = life.step("backup 1 (full)")
    assert backup.exit_code != 0 and backup.denials, backup


def test_the_plan_gives_r2_repository_buckets_no_lock_because_the_tools_fail_under_it(
        restic_lives: dict[str, tuple[DrillRun, bool]],
        pgbackrest_lives: dict[str, tuple[DrillRun, list[str]]], planned: R2Estate) -> None:
    broken = [life for life, _ in (restic_lives[f"{PROGRAM_RULE}, {YOUNG}"], pgbackrest_lives[PROGRAM_RULE])
              if any(s.exit_code for s in life.steps)]
    assert broken, "both tools survived the lock: the rule could allow R2 lock rules again"
    assert capabilities_of("r2").object_lock is False
    bucket = planned.plan.bucket(R2_DESTINATION, 1)
    assert bucket.lock_days == 0 and not bucket.versioning
