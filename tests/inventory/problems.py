"""What loading a bad inventory reports, as (path, kind, message) triples: the form every inventory test compares."""

from __future__ import annotations

from typing import Any

import pytest

from inventory import InventoryError, load_inventory


def problems(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every problem `load_inventory` reports for `raw`, in order; fails the test if it loads."""
    with pytest.raises(InventoryError) as caught:
        load_inventory(raw)
    return [(p.path, p.kind, p.message) for p in caught.value.problems]
