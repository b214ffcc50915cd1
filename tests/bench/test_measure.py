"""The program's floor in the bench registers exactly what the program registered, so the ratio compares like with
like (README, Performance)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _measure(*args: str) -> subprocess.CompletedProcess:
    """One bench.measure process (each sets up its own mocks, as the bench runs them)."""
    return subprocess.run([sys.executable, "-m", "bench.measure", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow  # three whole-program processes under mocks: 8-14 s CPU
def test_the_floor_replays_the_recorded_registrations_and_the_flat_one_did_not(tmp_path: Path) -> None:
    recording = tmp_path / "mocks.json"
    assert _measure("record", "6", str(recording)).returncode == 0

    same = _measure("compare", str(recording))
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr[-3000:]
    assert same.stdout.strip() == "the floor registers what the program registered"

    flat = _measure("compare", str(recording), "flat")
    assert flat.returncode == 1, flat.stderr[-3000:]
    assert "provider 'render-" in flat.stdout and "replayed as ''" in flat.stdout
