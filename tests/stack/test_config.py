"""Stack configuration: the inventory from config sections or a file, credentials from config or environment,
and a private CA bundle, each failing with one message that names the key and the fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from stack.config import (
    InventoryConfigError,
    MissingCredentialsError,
    destination_credentials,
    load_stack_inventory,
    read_ca_bundle,
)
from tests.components.harness import inventory_config, stack_config
from tests.mocks import installed


@pytest.fixture
def config() -> Iterator[dict[str, str]]:
    """Stack config for one test (set it, then call the function under test); cleared after."""
    values: dict[str, str] = {}
    with installed(preview=False):
        yield values
    pulumi.runtime.set_all_config({})


def _set(values: dict[str, str]) -> None:
    pulumi.runtime.set_all_config(values)


def test_the_inventory_comes_from_the_config_sections(config: dict[str, str], estate: dict[str, Any]) -> None:
    _set(inventory_config(estate))
    assert [d.name for d in load_stack_inventory().datasets] == [d["name"] for d in estate["datasets"]]


def test_the_inventory_comes_from_a_file_named_by_inventory_file(config: dict[str, str], estate: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(estate))
    _set({"homelab-backups:inventory_file": str(path)})
    assert len(load_stack_inventory().datasets) == len(estate["datasets"])


def test_an_inventory_in_two_places_is_refused(config: dict[str, str], estate: dict[str, Any],
                                               tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(estate))
    _set({"homelab-backups:inventory_file": str(path), "homelab-backups:datasets": json.dumps(estate["datasets"])})
    with pytest.raises(InventoryConfigError) as refused:
        load_stack_inventory()
    assert str(refused.value) == ("both inventory_file and the config sections ['datasets'] are set; keep the "
                                  "inventory in one place (remove one of them)")


def test_an_invalid_inventory_says_which_file_to_edit(config: dict[str, str], estate: dict[str, Any]) -> None:
    estate["datasets"][0]["tier"] = 9
    _set(inventory_config(estate))
    with pytest.raises(InventoryConfigError) as refused:
        load_stack_inventory()
    message = str(refused.value)
    assert "datasets[0].tier" in message
    assert message.endswith("Edit Pulumi.stack.yaml (keys under `homelab-backups:`) and run again.")


def test_missing_credentials_name_the_config_path_and_the_variables(config: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HLB_GARAGE_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("HLB_GARAGE_SECRET_ACCESS_KEY", "from-env")
    _set({})
    seen: list[BaseException] = []

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        out = destination_credentials("garage", ("access_key_id", "secret_access_key"))
        return out.apply(lambda _: None)

    try:
        program()
    except MissingCredentialsError as exc:
        seen.append(exc)
    assert [str(e) for e in seen] == [
        "'garage' has no credentials ['access_key_id']: run `pulumi config set --secret --path "
        "'credentials.garage.access_key_id' ...`, or export HLB_GARAGE_ACCESS_KEY_ID"]


def test_credentials_from_the_environment_are_a_secret(config: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HLB_GARAGE_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("HLB_GARAGE_SECRET_ACCESS_KEY", "secret")
    _set({})
    found: list[tuple[Any, bool]] = []

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        out = destination_credentials("garage", ("access_key_id", "secret_access_key"))

        async def keep(value: Any) -> None:
            found.append((value, await out.is_secret()))

        return out.apply(keep)

    program()
    assert found == [({"access_key_id": "id", "secret_access_key": "secret"}, True)]


def test_a_ca_bundle_that_is_missing_or_not_pem_is_refused_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(InventoryConfigError) as missing:
        read_ca_bundle("garage", str(tmp_path / "absent.pem"))
    assert str(missing.value).startswith(f"destinations['garage'].ca_file '{tmp_path / 'absent.pem'}' cannot be read")
    not_pem = tmp_path / "ca.der"
    not_pem.write_text("not a certificate")
    with pytest.raises(InventoryConfigError) as refused:
        read_ca_bundle("garage", str(not_pem))
    assert "holds no PEM certificate" in str(refused.value)
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert read_ca_bundle("garage", str(pem)).startswith("-----BEGIN CERTIFICATE-----")


def test_the_prod_inventory_can_live_in_a_file(tmp_path):
    sections = {k.split(":", 1)[1]: json.loads(v) for k, v in stack_config("prod").items()}
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(sections))
    pulumi.runtime.set_all_config({"homelab-backups:inventory_file": str(inventory)})
    try:
        assert len(load_stack_inventory().datasets) == 17
        pulumi.runtime.set_all_config({"homelab-backups:inventory_file": str(inventory),
                                       "homelab-backups:datasets": "[]"})
        with pytest.raises(pulumi.RunError, match="keep the inventory in one place"):
            load_stack_inventory()
    finally:
        pulumi.runtime.set_all_config({})
