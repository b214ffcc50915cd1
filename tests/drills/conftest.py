"""Restore drills: the estate fixture (servers + engine), the restic repository every restic drill reads, and
the summary table of restore times and sizes printed at the end of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.drills.estate import DrillEstate, drill_estate
from tests.drills.helpers import (
    RESTIC_DATASET,
    RESTIC_DESTINATION,
    ResticRepository,
    builder_env,
    header_counts,
    require_tool,
    restic_run,
    tree_digest,
    write_generation,
)
from tests.drills.records import RECORDS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = RECORDS.summary()
    if lines:
        terminalreporter.section("restore drills")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrillEstate]:
    with drill_estate(tmp_path_factory.mktemp("drill-estate")) as running:
        yield running


@pytest.fixture(scope="session")
def restic_repository(estate: DrillEstate, tmp_path_factory: pytest.TempPathFactory) -> ResticRepository:
    require_tool("restic")
    work = tmp_path_factory.mktemp("restic-drill")
    secret = builder_env(estate, RESTIC_DATASET, RESTIC_DESTINATION)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "RESTIC_CACHE_DIR": str(work / "cache"),
           **secret}
    source = work / "data"
    source.mkdir()
    mark = estate.plain.mark()
    restic_run(env, "init")
    for generation in range(3):
        write_generation(source, generation)
        restic_run(env, "backup", "--host", "drill", ".", cwd=source)
    copy = next(c for c in estate.runbook["datasets"][RESTIC_DATASET]["copies"]
                if c["destination"] == RESTIC_DESTINATION)
    return ResticRepository(env, source, tree_digest(source), 3, copy, header_counts(estate.plain.since(mark)), work)
