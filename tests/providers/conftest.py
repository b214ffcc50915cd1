"""Pulumi mocks for the provider tests: the shared recording monitor (tests/mocks.py), for `up` and preview."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mocks import RecordingMonitor, installed


@pytest.fixture(params=[False, True], ids=["up", "preview"])
def mocked(request: pytest.FixtureRequest) -> Iterator[RecordingMonitor]:
    """Mocks installed for one test; the runtime settings and event loop are restored after it."""
    with installed(preview=request.param) as monitor:
        yield monitor
