"""scripts/pip_list.py stands in for `pip list -v --format json` when the language host asks through
scripts/pulumi-python: its answer must be pip's own, or the engine would look for other plugins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "scripts" / "pulumi-python"
PYTHON = ROOT / ".venv" / "bin" / "python"
"""The interpreter the shim runs (sys.executable may name the venv by its resolved path)."""


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, timeout=120, cwd=ROOT)


def test_the_shim_answers_the_language_hosts_pip_question_as_pip_does():
    shim = json.loads(_run(str(SHIM), "-m", "pip", "list", "-v", "--format", "json").stdout)
    pip = json.loads(_run(str(PYTHON), "-m", "pip", "list", "-v", "--format", "json").stdout)
    assert shim == pip
    assert {"pulumi", "pulumi_kubernetes"} <= {package["name"] for package in shim}


def test_other_pip_commands_still_reach_pip():
    """The nearest other command (the same list without -v) gets pip's own short form, not the shim's. (It was
    `--not-required`, which makes pip resolve every requirement: 0.8 s of CPU against 0.5 s.)"""
    listed = json.loads(_run(str(SHIM), "-m", "pip", "list", "--format", "json").stdout)
    assert listed and all(set(package) == {"name", "version"} for package in listed)
