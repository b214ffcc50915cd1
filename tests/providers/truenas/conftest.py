"""The loopback TrueNAS simulator, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.truenas_simulator import TrueNASSimulator


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator() as simulator:
        yield simulator
