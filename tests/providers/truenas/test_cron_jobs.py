"""`cronjob`: checks, the whole lifecycle against the simulator (create, refresh after a UI edit, update in place,
delete twice, import by id), and the middleware's own refusals explained."""

from __future__ import annotations

from typing import Any

import pytest

from providers.truenas.client import ConnectionSettings, TrueNASClient
from providers.truenas.cron_jobs import CronJobProvider
from providers.truenas.service import TrueNASResourceError
from tests.providers.truenas.inputs import checked, failures, without_provider
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import CRON_JOBS


def _inputs(sim: TrueNASSimulator, **overrides: Any) -> dict[str, Any]:
    inputs = {"connection": sim.connection(), "command": "echo config export", "user": "root",
              "description": "homelab-backups nas-config", "schedule": {"minute": "10", "hour": "2"},
              "target_dataset": "nas-backups", "context": "nas-config"}
    return {**inputs, **overrides}


def test_check_fills_api_defaults(sim: TrueNASSimulator) -> None:
    inputs = checked(CronJobProvider(), _inputs(sim))
    assert without_provider(inputs) == {
        **_inputs(sim), "enabled": True, "stderr": False, "stdout": True,
        "schedule": {"minute": "10", "hour": "2", "dom": "*", "month": "*", "dow": "*"}}


def test_check_reports_one_failure_per_bad_field(sim: TrueNASSimulator) -> None:
    found = failures(CronJobProvider(), _inputs(sim, command="a\nb", user="two words", enabled="yes",
                                                schedule={"minute": "61"}, shell="bash"))
    assert found == {
        "shell": "nas-config: unknown input; allowed: command, connection, context, description, enabled, schedule, "
                 "stderr, stdout, target_dataset, user",
        "enabled": "nas-config: must be true or false",
        "user": "nas-config: user names cannot contain spaces",
        "command": "nas-config: must be one line: the NAS drops newlines when it writes the crontab, which would join "
                   "the lines into one; separate commands with ';'",
        "schedule": "nas-config: '61 * * * *' is not a valid cron schedule ([61 * * * *] is not acceptable, out of "
                    "range); dow runs 1 (Mon) to 7 (Sun)",
    }
    assert failures(CronJobProvider(), _inputs(sim, command=" "))["command"] == "nas-config: required: a non-empty " \
        "string"


def test_create_refresh_update_delete(sim: TrueNASSimulator) -> None:
    provider = CronJobProvider()
    inputs = checked(provider, _inputs(sim))
    created = provider.create(inputs)
    task_id = int(created.id)
    assert created.outs == {**without_provider(inputs), "task_id": task_id}
    row = sim.rows(CRON_JOBS)[task_id]
    assert (row["command"], row["user"], row["schedule"]["hour"], row["stdout"]) == ("echo config export", "root",
                                                                                     "2", True)
    assert "target_dataset" not in row and "context" not in row, "local inputs never reach the NAS"
    assert provider.diff(created.id, created.outs, inputs).changes is False

    sim.edit(CRON_JOBS, task_id, enabled=False, command="echo tampered")
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["enabled"], refreshed.outs["command"]) == (False, "echo tampered")
    assert refreshed.inputs == {k: v for k, v in refreshed.outs.items() if k != "task_id"}
    drift = provider.diff(created.id, refreshed.outs, inputs)
    assert (drift.changes, drift.replaces) == (True, [])

    updated = provider.update(created.id, refreshed.outs, inputs)
    assert updated.outs == created.outs
    assert sim.rows(CRON_JOBS)[task_id]["command"] == "echo config export"
    assert sim.calls.count("cronjob.update") == 1

    provider.delete(created.id, updated.outs)
    provider.delete(created.id, updated.outs)
    assert sim.rows(CRON_JOBS) == {}
    assert provider.read(created.id, updated.outs).id == ""


def test_an_unknown_user_is_explained_with_the_fix(sim: TrueNASSimulator) -> None:
    provider = CronJobProvider()
    with pytest.raises(TrueNASResourceError) as caught:
        provider.create(checked(provider, _inputs(sim, user="backup")))
    message = str(caught.value)
    assert "Specified user does not exist" in message and "use an existing NAS user" in message
    assert sim.rows(CRON_JOBS) == {}


def test_import_by_id(sim: TrueNASSimulator) -> None:
    with TrueNASClient(ConnectionSettings.from_dict(sim.connection())) as api:
        made_in_ui = api.call("cronjob.create", {"command": "echo hi", "user": "admin", "schedule": {"hour": "4"}})
    provider = CronJobProvider()
    imported = provider.read(str(made_in_ui["id"]), {"connection": sim.connection()})
    assert imported.outs["task_id"] == made_in_ui["id"]
    assert (imported.inputs["command"], imported.inputs["user"], imported.inputs["schedule"]) == (
        "echo hi", "admin", {"minute": "00", "hour": "4", "dom": "*", "month": "*", "dow": "*"})
    assert provider.diff(imported.id, imported.outs, checked(provider, imported.inputs)).changes is False
