"""Checks beyond shapes and tier rules: values tools would refuse, one repository per source, derived names.

Each concern lives in its own module; this one only gathers their problems for `load_inventory`.
"""

from __future__ import annotations

from inventory.budget import budget_problems
from inventory.inputs import input_problems
from inventory.models import Inventory, Location
from inventory.storage import storage_problems
from inventory.uniqueness import uniqueness_problems
from inventory.zones import zone_problems


def estate_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Every problem the later checks find, each located in the inventory."""
    return (input_problems(inv) + uniqueness_problems(inv) + storage_problems(inv) + zone_problems(inv)
            + budget_problems(inv))
