"""Program and pack agree, by property: whatever the inventory accepts, the pack passes.

Inventories are drawn (valid ones, and valid ones bent the way users bend them); those the inventory refuses are
skipped, the rest run under mocks into a deployment that `pulumi policy analyze` judges with the real engine. A
mandatory violation is an inventory rule missing from the program. Sampled: a few examples per run, each a real
engine call of a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.engine import deployment
from tests.engine.test_policies_engine import ROOT, Engine
from tests.strategies import INVENTORY_ENV, bent_inventories, inventories

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    if not (ROOT / ".toolchain" / "bin" / "pulumi").exists():
        pytest.skip("the engine is not built here: run scripts/toolchain.sh")
    return Engine(Path(tmp_path_factory.mktemp("pack-agrees")))


@settings(max_examples=6, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(raw=st.one_of(inventories(max_datasets=4), bent_inventories()))
def test_what_the_inventory_accepts_the_pack_passes(engine, raw):
    config = {f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()}
    try:
        state = deployment.from_program("test", env=INVENTORY_ENV, config=config)
    except pulumi.RunError:
        assume(False)  # refused by the inventory: nothing to compare
    budget = {"cost-enforce-monthly-budget": {"budgetUsdPerMonth": raw["budget_usd_per_month"]}}
    analysis = engine.analyze("drawn", state, budget)
    assert analysis.mandatory() == [], f"{json.dumps(raw, indent=1)}\n{analysis.describe()}"
    assert analysis.returncode == 0, analysis.stderr


@pytest.mark.parametrize("store", [
    {"kind": "kubernetes", "namespace": "escrow", "on_delete": "remove"},
    {"kind": "onepassword", "connect_host": "https://connect.internal", "vault": "homelab"},
], ids=["kubernetes-store", "onepassword-store"])
def test_the_pack_passes_an_escrow_into_either_store(engine, store):
    from tests.components.harness import PROD_ENV, stack_config

    config = stack_config("prod") | {"homelab-backups:secret_store": json.dumps(store)}
    state = deployment.from_program("prod", env={**PROD_ENV, "HLB_ONEPASSWORD_TOKEN": "SECRET-token"}, config=config)
    types = {r["type"] for r in state["deployment"]["resources"]}
    assert {"homelab-backups:escrow:SecretEscrow"} <= types, sorted(types)
    analysis = engine.analyze(f"escrow-{store['kind']}", state)
    assert analysis.mandatory() == [], analysis.describe()
    assert analysis.returncode == 0, analysis.stderr
