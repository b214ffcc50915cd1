"""Interpreter settings for the pack's process, which holds a whole stack in memory during `AnalyzeStack`."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 20)
"""Young-generation threshold high enough that the collector does not rescan the stack's resources (hundreds of
thousands of dicts, proxies and records that all live until the request ends) again and again while they are built;
the program uses the same setting for the same reason (README, performance)."""


def tune_for_large_stacks() -> None:
    """Collect cycles less often, and never rescan what the imports left behind."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
