"""scripts/env.sh with HLB_PULUMI_DISK_LOGS=0 (set for every test session by tests/conftest.py) keeps the CLI from
writing its automatic verbose log, a third of its CPU per command, and the command still works; by default a user's
CLI keeps writing it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.engine]


def _stack_ls(home: Path, disk_logs: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PULUMI_HOME=str(home), PULUMI_BACKEND_URL=f"file://{home / 'state'}",
               HLB_PULUMI_DISK_LOGS=disk_logs)
    (home / "state").mkdir(parents=True)
    return subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/env.sh" && pulumi stack ls --all'], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_without_disk_logs_the_cli_runs_and_writes_no_log(tmp_path):
    if not (ROOT / ".toolchain" / "bin" / "pulumi").exists():
        pytest.skip("the engine is not built here: run scripts/toolchain.sh")
    result = _stack_ls(tmp_path / "off", "0")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "off" / "logs").is_file() and (tmp_path / "off" / "logs").stat().st_size == 0

    result = _stack_ls(tmp_path / "on", "1")
    assert result.returncode == 0, result.stderr
    assert [p.suffix for p in (tmp_path / "on" / "logs").iterdir()] == [".log"]
