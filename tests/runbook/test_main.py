"""`python -m runbook` is an offline tool: every command runs where Pulumi cannot even be imported.

Each command runs in a fresh interpreter in which importing any Pulumi SDK fails (as on a laptop without Pulumi),
and which reports every Pulumi module loaded at exit, so an import swallowed by a `try` is caught too. The commands
never echo a secret in an error, and files holding secrets never exist with looser permissions than they end with.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runbook.__main__ import write_private
from runbook.outputs import OutputsError, validate

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


# --- secret hygiene: errors never echo a secret, secret files are never looser than they end --------------------------


def test_a_malformed_secret_is_located_without_being_printed(prod_outputs: dict[str, Any]) -> None:
    dataset = next(iter(prod_outputs["secrets"]))
    destination = next(iter(prod_outputs["secrets"][dataset]))
    prod_outputs["secrets"][dataset][destination] = "hunter2-short"
    with pytest.raises(OutputsError) as refused:
        validate(prod_outputs)
    message = str(refused.value)
    # The schema's oneOf ("[secret]" or values) locates the problem at `secrets`, never quoting what is inside.
    assert "  - secrets: " in message and "value not shown" in message
    assert "hunter2" not in message


def test_problems_outside_secret_outputs_still_quote_the_value(prod_outputs: dict[str, Any]) -> None:
    prod_outputs["runbook"]["monthly_cost_total_usd"] = "lots"
    with pytest.raises(OutputsError, match="'lots' is not of type 'number'"):
        validate(prod_outputs)


def test_private_files_are_created_with_their_final_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        seen.append((flags & os.O_EXCL, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    target = tmp_path / "vaultwarden.md"
    target.write_text("old, world-readable")
    target.chmod(0o644)
    monkeypatch.setattr(os, "open", spy)
    write_private(target, b"password: s3cret", 0o600)
    monkeypatch.undo()
    # A fresh file (O_EXCL: never an old, wider inode written in place), created with 0600 before any byte.
    assert seen == [(os.O_EXCL, 0o600)]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == b"password: s3cret"
