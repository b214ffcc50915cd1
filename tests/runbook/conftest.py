"""The prod stack's outputs under mocks, shared by the contract and generator tests."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runbook.contract import PING_BASE_SECRET
from tests.components.harness import stack_run

FAKE_PING_KEY = "FAKE-PING-KEY-0123456789"
"""The escrowed ping key in `prod_outputs`: runbooks never show it, drills ping with it."""


def fake_secrets(runbook: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A value for every escrow path, distinctive enough to search for in generated files."""
    secrets: dict[str, dict[str, Any]] = {}
    for ds in runbook["datasets"].values():
        for c in ds["copies"]:
            if "escrow" not in c:
                continue
            _, owner, destination = c["escrow"]["path"].split(".")
            value = f"ESCROWED-{owner}-{destination}-0123456789"
            fields = c["escrow"].get("fields")
            secrets.setdefault(owner, {})[destination] = {f: f"{value}-{f}" for f in fields} if fields else value
    if any("healthcheck" in c for ds in runbook["datasets"].values() for c in ds["copies"]):
        secrets[PING_BASE_SECRET] = f"https://hc-ping.com/{FAKE_PING_KEY}/"  # type: ignore[assignment]
    return secrets


@pytest.fixture(scope="session")
def prod_export() -> tuple[dict[str, Any], set[str]]:
    """The prod runbook as JSON, and the datasets whose secrets the program exports for escrow."""
    _, exported = stack_run("prod")
    return json.loads(json.dumps(exported["runbook"])), set(exported["estate"].escrow)


@pytest.fixture
def prod_runbook(prod_export: tuple[dict[str, Any], set[str]]) -> dict[str, Any]:
    return copy.deepcopy(prod_export[0])


@pytest.fixture
def prod_outputs(prod_runbook: dict[str, Any]) -> dict[str, Any]:
    """As `pulumi stack output --json --show-secrets` would print them."""
    return {"runbook": prod_runbook, "secrets": fake_secrets(prod_runbook), "cnpg_cluster_plugins": {}}
