"""Runbook commands never echo a secret in an error, and files holding secrets never exist with looser
permissions than they end with."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from runbook.__main__ import write_private
from runbook.outputs import OutputsError, validate


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
