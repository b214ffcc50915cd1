"""`python -m runbook drill` against the loopback drill repository: it reads the stack outputs through Pulumi,
restores the newest snapshot, never writes to the repository, reports to Healthchecks, and fails loudly."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.drills.estate import DrillEstate
from tests.drills.helpers import RESTIC_DATASET, RESTIC_DESTINATION, ResticRepository, tree_digest, tree_size
from tests.drills.records import RECORDS, DrillRecord
from tests.engine.project import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.engine]


def _drill(estate: DrillEstate, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it from the checkout, with the engine on PATH (scripts/env.sh); the stack is
    the drill project's."""
    command = f'source "{ROOT}/scripts/env.sh" && cd "{ROOT}" && .venv/bin/python -m runbook drill "$@"'
    return subprocess.run(["bash", "-c", command, "drill", *args, "--project-dir", str(estate.project.dir)],
                          env=estate.project.env(), capture_output=True, text=True, timeout=300, check=False)


def _pings(estate: DrillEstate, since: int) -> list[tuple[str, str]]:
    return [(p.path, p.body) for p in estate.healthchecks.pings[since:]]


def test_drill_restores_the_newest_snapshot_read_only_and_reports(estate: DrillEstate,
                                                                  restic_repository: ResticRepository,
                                                                  tmp_path: Path) -> None:
    mark, pinged = estate.plain.mark(), len(estate.healthchecks.pings)
    result = _drill(estate, "--dataset", RESTIC_DATASET, "--stack", "local", "--destination", RESTIC_DESTINATION,
                    "--scratch", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore drill passed" in result.stdout
    (restored,) = tmp_path.iterdir()
    assert tree_digest(restored) == restic_repository.expected
    requests = estate.plain.since(mark)
    assert requests and {r.method for r in requests} <= {"GET", "HEAD"}, sorted({r.method for r in requests})
    url = f"/ping/drill-ping-key/backup-{RESTIC_DATASET}-{RESTIC_DESTINATION}-drill"
    pings = _pings(estate, pinged)
    assert [p for p, _ in pings] == [url + "/start", url]
    assert "restore drill passed" in pings[-1][1]
    seconds = float(re.search(r"in ([0-9.]+) s", result.stdout).group(1))
    files, size = tree_size(restored)
    RECORDS.drills.append(DrillRecord("runbook drill command: Tier 1 PVC", "restic 0.14 / S3", seconds, size, files,
                                      "read-only: only GET/HEAD reached S3"))
    secret = estate.outputs["secrets"][RESTIC_DATASET][RESTIC_DESTINATION]
    assert secret not in result.stdout + result.stderr


def test_drill_fails_with_the_wrong_password_and_pings_fail(estate: DrillEstate, restic_repository: ResticRepository,
                                                           tmp_path: Path) -> None:
    outputs = json.loads(json.dumps(estate.outputs))
    outputs["secrets"][RESTIC_DATASET][RESTIC_DESTINATION] = "not-the-repository-password"
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(outputs))
    pinged = len(estate.healthchecks.pings)
    result = _drill(estate, "--dataset", RESTIC_DATASET, "--from", str(source), "--scratch", str(tmp_path / "s"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "restore drill FAILED" in result.stderr and "restic snapshots failed" in result.stderr
    assert [p for p, _ in _pings(estate, pinged)][-1].endswith("-drill/fail")


def test_drill_refuses_to_start_without_a_bucket_credential(estate: DrillEstate, tmp_path: Path) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(estate.outputs))
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "runbook", "drill", "--dataset", RESTIC_DATASET,
               "--from", str(source)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "HLB_LOCAL_S3_ACCESS_KEY_ID" in result.stderr
