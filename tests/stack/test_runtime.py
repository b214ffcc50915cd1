"""GC tuning for a program that keeps tens of thousands of Outputs alive until the end."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from stack.runtime import tune_for_large_graphs


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_young_generation_is_collected_less_often_and_the_import_heap_is_frozen(restored_gc: None) -> None:
    before = gc.get_freeze_count()
    tune_for_large_graphs()
    assert gc.get_threshold() == (50_000, 20, 20)
    assert gc.get_freeze_count() > before


def test_cycles_are_still_collected_after_tuning(restored_gc: None) -> None:
    tune_for_large_graphs()

    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]
    del node
    assert gc.collect() >= 1
