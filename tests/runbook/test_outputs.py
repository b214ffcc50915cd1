"""The runbook contract and its versioned JSON Schema hold together: what the program exports (mocked prod
stack, real engine on the local stack) validates, and drift is refused with its location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runbook.contract import CONTRACT_VERSION, ESCROW_HOLDS, RTO_TARGET_HOURS
from runbook.outputs import SCHEMA_PATH, OutputsError, load_schema, validate
from tests.engine.project import EngineProject, free_port, s3_server


def test_schema_is_a_valid_draft_2020_12_schema_named_after_the_contract_version() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())
    assert SCHEMA_PATH.name == f"runbook-contract.v{CONTRACT_VERSION}.schema.json"
    assert load_schema()["$defs"]["runbook"]["properties"]["version"]["const"] == CONTRACT_VERSION


def test_prod_outputs_validate(prod_outputs: dict[str, Any]) -> None:
    assert validate(prod_outputs) is prod_outputs["runbook"]
    assert validate({"runbook": prod_outputs["runbook"], "secrets": "[secret]"})


@pytest.mark.parametrize(("change", "where"), [
    (lambda r: r["datasets"]["vaultwarden"].pop("restore"), "runbook.datasets.vaultwarden"),
    (lambda r: r["datasets"]["vaultwarden"]["copies"][0].update(surprise=1), "runbook.datasets.vaultwarden.copies.0"),
    (lambda r: r["datasets"]["immich-db"]["copies"][0].pop("pgbackrest_repository"),
     "runbook.datasets.immich-db.copies.0"),
    (lambda r: r["datasets"]["vaultwarden"]["restore"][0].update(why="short"),
     "runbook.datasets.vaultwarden.restore.0"),
    (lambda r: r["tiers"]["1"]["rto_hours"].pop("local"), "runbook.tiers.1.rto_hours"),
])
def test_drift_is_refused_with_its_location(prod_outputs: dict[str, Any], change: Any, where: str) -> None:
    change(prod_outputs["runbook"])
    with pytest.raises(OutputsError) as refused:
        validate(prod_outputs)
    assert where in str(refused.value)


def test_another_contract_version_is_refused_by_name(prod_outputs: dict[str, Any]) -> None:
    prod_outputs["runbook"]["version"] = "1"
    with pytest.raises(OutputsError, match="version '1'"):
        validate(prod_outputs)


def test_every_escrow_path_points_at_a_secret_the_program_exports(prod_export: tuple[dict[str, Any], set[str]]) -> None:
    runbook, exported = prod_export
    paths = set()
    for name, ds in runbook["datasets"].items():
        assert ds["rto_target_hours"]["local"] == RTO_TARGET_HOURS[ds["tier"]][0]
        for copy in ds["copies"]:
            escrowed = copy["tool"] in ESCROW_HOLDS and (copy["tool"] != "cloudsync" or copy["offsite"])
            assert ("escrow" in copy) == escrowed, (name, copy["destination"])
            if escrowed:
                _, owner, destination = copy["escrow"]["path"].split(".")
                assert destination == copy["destination"]
                assert owner in exported, f"{name}: {copy['escrow']['path']} names no exported secret"
                paths.add(owner)
    assert paths == {n for n in exported if runbook["datasets"][n]["copies"]}, "every exported secret is named"
    assert set(runbook["tiers"]) == {"1", "2", "3"}


@pytest.mark.engine
@pytest.mark.slow
def test_local_stack_outputs_through_the_engine_validate(tmp_path: Path) -> None:
    port = free_port()
    s3_server("start", port)
    try:
        project = EngineProject(tmp_path, s3_port=port)
        project.run("stack", "init", "local")
        project.run("up", "--stack", "local", "--yes", "--skip-preview")
        hidden = project.outputs("local")
        shown = project.outputs("local", show_secrets=True)
    finally:
        s3_server("stop", port)
    assert hidden["secrets"] == "[secret]"
    validate(hidden)
    validate(shown)
    vaultwarden = shown["runbook"]["datasets"]["vaultwarden"]
    for copy in vaultwarden["copies"]:
        assert shown["secrets"]["vaultwarden"][copy["destination"]]
        assert copy["repository_secret"]["from_secrets"]["RESTIC_PASSWORD"] == "repository_password"
