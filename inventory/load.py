"""Turn raw stack config into a validated Inventory, or one error listing every problem with its path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from inventory.checks import estate_problems
from inventory.hosts import HOSTNAME
from inventory.models import B2_REGION, HHMM, K8S_NAME, NAME, QUANTITY, URL, Inventory, Location, rule_problems
from inventory.names import name_problems

SECTIONS = (
    "destinations", "datasets", "tiers", "schedule", "monitoring", "kubernetes", "truenas", "secret_store",
    "budget_usd_per_month", "proxmox",
)
"""Stack config keys (namespace `homelab-backups`) that make up the inventory."""

_TAGS = {"nfs", "b2", "r2", "s3", "s3-compatible", "pvc", "postgres", "truenas", "export", "kubernetes", "onepassword"}
_TAGS |= {"host"}
_TAGS |= {"pbs", "pve-storage"}  # proxmox.destinations


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inventory: where, what, and how to fix it."""

    path: str
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InventoryError(ValueError):
    """The inventory is invalid; nothing was applied. `problems` lists each with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the backup inventory has {len(problems)} problem(s); nothing was changed:\n{lines}")


def render_path(loc: Location) -> str:
    """`('datasets', 3, 'source', 'pvc', 'claim')` -> `datasets[3].source.claim` (union tags dropped)."""
    out = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS and (previous in ("source", "secret_store") or isinstance(previous, int)):
            pass  # the discriminator value pydantic inserts for tagged unions
        elif part.startswith(("function-", "tagged-union[")):
            pass
        else:
            out += f".{part}" if out else part
        previous = part
    return out


def _message(error: dict[str, Any]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown field; remove it or check its spelling against the README's inventory reference"
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "union_tag_invalid":
        return f"unknown kind {error['input'].get('kind')!r}; use one of {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "missing `kind`; say which kind this is"
    if kind == "string_pattern_mismatch":
        form = PATTERN_HINTS.get(error["ctx"]["pattern"], f"the pattern {error['ctx']['pattern']}")
        return f"{error['input']!r} is not {form}"
    if kind == "literal_error":
        return f"{error['input']!r} is not allowed; use one of {error['ctx']['expected']}"
    if kind == "too_short":
        return "needs at least one entry; add one"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict | list):
        return f"{msg} (got {error['input']!r})"
    return msg


PATTERN_HINTS = {
    NAME: "a short lowercase name (letters, digits, '-'), e.g. `immich-photos`",
    K8S_NAME: "a Kubernetes name (lowercase letters, digits, '-'), e.g. `vaultwarden-data`",
    B2_REGION: "a B2 region as shown in the bucket details, e.g. `us-west-004`",
    QUANTITY: "a size in Mi, Gi or Ti, e.g. `10Gi`",
    HHMM: "a 24-hour time HH:MM, e.g. `01:30`",
    URL: "an http(s) URL, e.g. `https://connect.internal:8443`",
    HOSTNAME: "a lowercase host name (letters, digits, '-', dots between labels), e.g. `nas.home.arpa`",
}


def load_inventory(raw: dict[str, Any]) -> Inventory:
    """Validate the raw config sections; raise InventoryError listing every problem at once."""
    unknown = sorted(k for k in raw if k not in SECTIONS)
    data = {k: v for k, v in raw.items() if v is not None and k in SECTIONS}
    try:
        # JSON mode: strict types, but arrays are accepted for tuples as they arrive from YAML.
        inventory = Inventory.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        errors = exc.errors()
        # A list whose only items failed also reports "too short": noise next to the real problem.
        failed = {e["loc"][0] for e in errors if len(e["loc"]) > 1}
        errors = [e for e in errors if not (e["type"] == "too_short" and e["loc"][0] in failed)]
        problems = [Problem(render_path(e["loc"]), _message(e), e["type"]) for e in errors]
        raise InventoryError(problems + [_unknown_section(k) for k in unknown]) from None
    rules = [Problem(render_path(loc), msg, "rule") for loc, msg in rule_problems(inventory)]
    rules += [Problem(render_path(loc), msg, "rule") for loc, msg in estate_problems(inventory)]
    if not rules:
        # Derived names come from the plan, which only a consistent inventory compiles.
        rules = [Problem(render_path(loc), msg, "rule") for loc, msg in name_problems(inventory)]
    rules += [_unknown_section(k) for k in unknown]
    if rules:
        raise InventoryError(rules)
    return inventory


def _unknown_section(key: str) -> Problem:
    return Problem(key, f"unknown inventory section; use one of {list(SECTIONS)}", "extra_forbidden")
