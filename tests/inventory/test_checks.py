"""The checks beyond shapes are gathered in one place: every concern's problems, located, in a stable order."""

from __future__ import annotations

import json
from typing import Any

from inventory.budget import budget_problems
from inventory.checks import estate_problems
from inventory.inputs import input_problems
from inventory.models import Inventory
from inventory.storage import storage_problems
from inventory.uniqueness import uniqueness_problems
from inventory.zones import zone_problems


def _model(raw: dict[str, Any]) -> Inventory:
    """The inventory's shape only, without the checks `load_inventory` runs (as it parses: JSON mode)."""
    return Inventory.model_validate_json(json.dumps(raw))


def test_a_valid_estate_has_no_problem(estate: dict[str, Any]) -> None:
    assert estate_problems(_model(estate)) == []


def test_problems_of_different_concerns_are_all_reported_in_the_concerns_order(estate: dict[str, Any]) -> None:
    estate["budget_usd_per_month"] = 0.01
    estate["datasets"].append({**estate["datasets"][0], "name": "vaultwarden-twin"})
    inventory = _model(estate)
    found = estate_problems(inventory)
    expected = (input_problems(inventory) + uniqueness_problems(inventory) + storage_problems(inventory)
                + zone_problems(inventory) + budget_problems(inventory))
    assert found == expected
    assert uniqueness_problems(inventory) and budget_problems(inventory), "both concerns must report here"
    assert found.index(uniqueness_problems(inventory)[0]) < found.index(budget_problems(inventory)[0])
