"""The compliant estate of the unit tests (tests/policies/fixtures.py), as a deployment the engine can analyze.

Inputs and outputs are the fixture's props (resource policies read inputs, stack policies outputs); components
register their facts as outputs; `SecretStr` values become secret envelopes, which the engine hands back as secrets.
"""

from __future__ import annotations

from typing import Any

from policies.rules.support.props import SecretStr
from tests.engine.deployment import Res, from_resources, secret
from tests.policies import fixtures

STACK = fixtures.STACK


def _state(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return secret(str(value))
    if isinstance(value, dict):
        return {k: _state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_state(v) for v in value]
    return value


def deployment(estate: fixtures.Estate) -> dict[str, Any]:
    """The estate's nodes as a v3 deployment (parents first, as the fixture declares them)."""
    made: dict[str, Res] = {}
    resources = []
    for node in estate.nodes:
        custom = not node.type.startswith("homelab-backups:")
        props = _state(node.props)
        parent = made.get(node.parent.urn) if node.parent is not None else None
        provider = f"{node.provider.urn}::{node.provider.name}-id" if node.provider is not None else None
        res = Res(node.type, node.name, props if custom or node.type == fixtures.kinds.DATASET else {}, parent,
                  custom=custom, outputs=props, provider=provider)
        made[node.urn] = res
        resources.append(res)
    return from_resources(STACK, resources)
