"""The drill command's pure parts: which copy it picks, the environment it builds, and what stops it early.
The restores themselves run in tests/drills/test_drill_command.py against a real repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook.drill import DrillUsageError, choose_copy, ping, restic_env
from tests.engine.project import free_port


def test_the_default_copy_is_the_first_restic_copy_in_object_storage(prod_outputs: dict[str, Any]) -> None:
    runbook = prod_outputs["runbook"]
    copies = runbook["datasets"]["vaultwarden"]["copies"]
    assert copies[0]["kind"] == "nfs", "the prod estate's nearest vaultwarden copy is the NAS export"
    expected = next(c for c in copies if c["kind"] != "nfs" and c["tool"] == "restic")
    assert choose_copy(runbook, "vaultwarden", None) == expected
    assert choose_copy(runbook, "vaultwarden", "nas") == copies[0]


@pytest.mark.parametrize(("dataset", "destination", "message"), [
    ("nope", None, "no dataset 'nope'"),
    ("grafana", None, "no restic copy"),
    ("immich-db", None, "no restic copy"),
    ("vaultwarden", "mars", "choose one of"),
])
def test_what_cannot_be_drilled_is_refused_by_name(prod_outputs: dict[str, Any], dataset: str,
                                                   destination: str | None, message: str) -> None:
    with pytest.raises(DrillUsageError, match=message):
        choose_copy(prod_outputs["runbook"], dataset, destination)


def test_environment_is_the_repository_secret_with_escrow_and_credentials(prod_outputs: dict[str, Any]) -> None:
    copy = choose_copy(prod_outputs["runbook"], "vaultwarden", None)
    prefix = "HLB_" + copy["destination"].upper().replace("-", "_")
    env = restic_env(copy, prod_outputs, {f"{prefix}_ACCESS_KEY_ID": "id", f"{prefix}_SECRET_ACCESS_KEY": "key"})
    password = prod_outputs["secrets"]["vaultwarden"][copy["destination"]]
    assert env == {**copy["repository_secret"]["values"], "RESTIC_PASSWORD": password,
                   "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key"}
    fallback = restic_env(copy, prod_outputs, {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
    assert (fallback["AWS_ACCESS_KEY_ID"], fallback["AWS_SECRET_ACCESS_KEY"]) == ("a", "b")
    with pytest.raises(DrillUsageError, match=f"{prefix}_ACCESS_KEY_ID"):
        restic_env(copy, prod_outputs, {})


def test_nfs_copies_need_the_mounted_export(prod_outputs: dict[str, Any]) -> None:
    copy = choose_copy(prod_outputs["runbook"], "vaultwarden", "nas")
    with pytest.raises(DrillUsageError, match="--nfs-root"):
        restic_env(copy, prod_outputs, {})
    env = restic_env(copy, prod_outputs, {}, nfs_root=Path("/srv/nas"))
    assert env["RESTIC_REPOSITORY"] == f"/srv/nas/{copy['bucket']}/{copy['repository']}"


def test_hidden_secrets_are_refused(prod_outputs: dict[str, Any]) -> None:
    prod_outputs["secrets"] = "[secret]"
    copy = choose_copy(prod_outputs["runbook"], "vaultwarden", None)
    with pytest.raises(DrillUsageError, match="--show-secrets"):
        restic_env(copy, prod_outputs, {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})


def test_an_unreachable_healthchecks_never_raises() -> None:
    problem = ping(f"http://127.0.0.1:{free_port()}/ping/x", "body", timeout=2)
    assert problem is not None and "failed" in problem
