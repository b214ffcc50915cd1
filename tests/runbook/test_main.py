"""`python -m runbook` is an offline tool: every command runs where Pulumi cannot even be imported.

Each command runs in a fresh interpreter in which importing any Pulumi SDK fails (as on a laptop without Pulumi),
and which reports every Pulumi module loaded at exit, so an import swallowed by a `try` is caught too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_PULUMI = """
import json, runpy, sys

class NoPulumi:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pulumi" or name.startswith("pulumi_"):
            raise ImportError(f"{name} is not installed on this machine")
        return None

sys.meta_path.insert(0, NoPulumi())
report, sys.argv = sys.argv[1], ["python -m runbook", *sys.argv[2:]]
try:
    runpy.run_module("runbook", run_name="__main__", alter_sys=True)
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "pulumi" or m.startswith("pulumi_"))
    with open(report, "w") as handle:
        json.dump(loaded, handle)
"""


def run_without_pulumi(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    """(exit status, stderr, Pulumi modules loaded) of `python -m runbook ARGS` with Pulumi unimportable."""
    report = tmp_path / "pulumi-modules.json"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PULUMI, str(report), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)})
    return done.returncode, done.stderr, json.loads(report.read_text())


@pytest.fixture
def outputs_file(prod_outputs: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(prod_outputs))
    return path


def test_generate_writes_runbooks_without_pulumi(outputs_file: Path, tmp_path: Path) -> None:
    status, stderr, loaded = run_without_pulumi(tmp_path, "generate", "--from", str(outputs_file), "--out",
                                                str(tmp_path / "books"))
    assert (status, stderr, loaded) == (0, "", [])
    assert (tmp_path / "books" / "README.md").is_file()


def test_drill_reads_the_outputs_and_refuses_an_unknown_dataset_without_pulumi(outputs_file: Path,
                                                                               tmp_path: Path) -> None:
    status, stderr, loaded = run_without_pulumi(tmp_path, "drill", "--dataset", "no-such", "--from",
                                                str(outputs_file))
    assert (status, loaded) == (2, [])
    assert "no dataset 'no-such'" in stderr


def test_status_starts_without_pulumi(outputs_file: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "HLB_HEALTHCHECKS_API_KEY"}
    status, stderr, loaded = run_without_pulumi(tmp_path, "status", "--from", str(outputs_file), env=env)
    assert (status, loaded) == (2, [])
    assert "HLB_HEALTHCHECKS_API_KEY" in stderr


def test_the_blocker_is_real_an_import_of_pulumi_fails_in_that_interpreter(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_PULUMI.replace('runpy.run_module("runbook", run_name='
                                                                        '"__main__", alter_sys=True)',
                                                                        "import pulumi"), str(tmp_path / "r.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "ImportError: pulumi is not installed on this machine" in done.stderr
