"""The program's floor in the bench registers exactly what the program registered, so the ratio compares like with
like (README, Performance)."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pulumi
import pytest
from pulumi.runtime import settings

from bench import measure


def _measure(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """One `python -m bench.measure` command, through its entry point in this process: each command sets up its own
    mocks, as the bench's processes do. The environment (credentials, HLB_BENCH_GC) and the stack config are put
    back afterwards, so are the runtime settings its mocks replace, and the GC is left untuned (the bench's tuning
    freezes the heap: not for a test process). Three processes cost 11 s of CPU, mostly importing the provider SDKs
    again in each."""
    code = 0
    saved = {name: getattr(settings.SETTINGS, name) for name in ("monitor", "engine", "dry_run", "project", "stack")}
    saved_root = settings.get_root_resource()
    with mock.patch.dict(os.environ, {"HLB_BENCH_GC": "untuned"}):
        try:
            measure.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            pulumi.runtime.set_all_config({})
            for name, value in saved.items():  # the bench's mocks and stack name stay with the bench
                setattr(settings.SETTINGS, name, value)
            settings.ROOT.set(saved_root)
    return code, capsys.readouterr().out


@pytest.mark.slow  # three whole-program runs under mocks: 5-6 s CPU (imports included)
def test_the_floor_replays_the_recorded_registrations_and_the_flat_one_did_not(tmp_path: Path, capsys) -> None:
    recording = tmp_path / "mocks.json"
    code, out = _measure(capsys, "record", "6", str(recording))
    assert code == 0 and '"cpu_s"' in out and recording.stat().st_size > 0

    code, out = _measure(capsys, "compare", str(recording))
    assert code == 0, out[-3000:]
    assert out.strip() == "the floor registers what the program registered"

    code, out = _measure(capsys, "compare", str(recording), "flat")
    assert code == 1, out[-3000:]
    assert "provider 'render-" in out and "replayed as ''" in out
