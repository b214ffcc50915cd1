"""runbook/hosts.py: a host dataset's restore steps and contract entry name its host, units and repository."""

from __future__ import annotations

from plan.hosts import host_plan
from runbook.hosts import host_entry, host_steps
from tests.components.harness import stack_plan


def test_restore_steps_open_the_first_copy_with_the_units_files() -> None:
    unit = stack_plan("hosts").unit("pebble")
    host = host_plan(unit, pings=False)
    steps = host_steps(unit)
    assert [s["title"] for s in steps] == [
        "Open the repository", "See what can be restored", "Restore into an empty folder, never over the live system",
        "Copy back what was lost, then check the services", "Rebuilding the whole host"]
    first = host.copies[0]
    assert steps[0]["command"] == (f"export RESTIC_REPOSITORY={first.repository} RESTIC_PASSWORD_FILE="
                                   f"{first.password_file}  # mount the NAS export at /mnt/nas first")
    assert steps[1]["command"] == "restic snapshots --host pebble.home.arpa"
    assert "--verify" in steps[2]["command"] and "/var/tmp/restore-pebble" in steps[2]["command"]


def test_contract_entry_lists_the_units_per_destination() -> None:
    unit = stack_plan("hosts").unit("atlas")
    assert host_entry(unit) == {
        "hostname": "atlas", "os": "nixos", "paths": ["/etc", "/home", "/var/lib", "/srv/data"],
        "units": {"nas": "restic-backups-atlas-nas.service", "site2": "restic-backups-atlas-site2.service",
                  "b2": "restic-backups-atlas-b2.service"}}


def test_the_hosts_stack_contract_validates_against_the_schema() -> None:
    import pulumi

    from runbook.contract import runbook_contract
    from runbook.outputs import validate
    from stack.config import load_stack_inventory
    from tests.components.harness import stack_config

    pulumi.runtime.set_all_config(stack_config("hosts"))
    try:
        inventory = load_stack_inventory()
    finally:
        pulumi.runtime.set_all_config({})
    from plan import build_plan

    contract = runbook_contract(inventory, build_plan(inventory))
    assert validate({"runbook": contract}) == contract
    assert contract["datasets"]["atlas"]["source"] == "host"
    broken = {**contract, "datasets": {**contract["datasets"], "atlas": {
        **contract["datasets"]["atlas"], "host": {**contract["datasets"]["atlas"]["host"], "os": "windows"}}}}
    import pytest

    from runbook.outputs import OutputsError

    with pytest.raises(OutputsError, match="datasets.atlas.host.os"):
        validate({"runbook": broken})


def test_the_markdown_runbook_of_a_host_names_its_units_and_steps() -> None:
    import pulumi

    from plan import build_plan
    from runbook.contract import runbook_contract
    from runbook.render import dataset_runbook
    from stack.config import load_stack_inventory
    from tests.components.harness import stack_config

    pulumi.runtime.set_all_config(stack_config("hosts"))
    try:
        inventory = load_stack_inventory()
    finally:
        pulumi.runtime.set_all_config({})
    contract = runbook_contract(inventory, build_plan(inventory))
    text = dataset_runbook("pebble", contract["datasets"]["pebble"], {"runbook": contract}, show_secrets=False)
    assert "Host: `pebble.home.arpa` (systemd)" in text
    assert "restic-backups-pebble-b2.service" in text and "restic snapshots --host pebble.home.arpa" in text


def test_the_offline_drill_command_sends_host_datasets_to_their_units() -> None:
    import pytest

    from runbook.drill import DrillUsageError, choose_copy

    runbook = {"datasets": {"pebble": {"copies": [
        {"destination": "nas", "tool": "restic", "kind": "nfs", "host_service": "restic-backups-pebble-nas.service"}]}}}
    with pytest.raises(DrillUsageError, match="host dataset: drill it on the host.*restic-backups-pebble-nas"):
        choose_copy(runbook, "pebble", None)
