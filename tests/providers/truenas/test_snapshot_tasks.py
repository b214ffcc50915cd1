"""`pool.snapshottask`: checks, the whole lifecycle against the simulator, and the naming schema rules."""

from __future__ import annotations

import pytest

from providers.truenas.client import ConnectionSettings, TrueNASClient
from providers.truenas.service import TrueNASResourceError
from providers.truenas.snapshot_tasks import SnapshotTaskProvider, naming_schema_problem
from tests.providers.truenas.inputs import (
    checked,
    failures,
    snapshot_inputs,
    without_provider,
)
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import SNAPSHOT_TASKS


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ("auto-%Y-%m-%d_%H-%M", None),
        ("%s", None),
        ("hourly-%Y%m%d.%H%M", None),
        ("daily-%Y-%m-%d", "must contain %Y %m %d %H %M (missing %H %M), e.g. 'auto-%Y-%m-%d_%H-%M'"),
        ("snap/%Y-%m-%d_%H-%M", "characters / are not allowed; use only letters, digits, space and % _ . : -"),
        ("%s-%Y", "%s (epoch seconds) cannot be combined with other placeholders"),
        ("100%%-%Y-%m-%d_%H-%M", "'%%' is not allowed (a literal % cannot appear in a ZFS snapshot name)"),
        (
            "%Y-%m-%d_%H:%M%z",
            "%z and ':' cannot be used together (ZFS names cannot contain '+', TrueNAS writes ':' for it)",
        ),
    ],
)
def test_naming_schema_rules(schema: str, problem: str | None) -> None:
    assert naming_schema_problem(schema) == problem


def test_snapshot_check_fills_api_defaults(sim: TrueNASSimulator) -> None:
    inputs = checked(SnapshotTaskProvider(), {"connection": sim.connection(), "dataset": "tank/photos"})
    assert without_provider(inputs) == {
        "connection": sim.connection(),
        "dataset": "tank/photos",
        "recursive": False,
        "exclude": [],
        "lifetime_value": 2,
        "lifetime_unit": "WEEK",
        "naming_schema": "auto-%Y-%m-%d_%H-%M",
        "enabled": True,
        "allow_empty": True,
        "fixate_removal_date": False,
        "schedule": {
            "minute": "00",
            "hour": "*",
            "dom": "*",
            "month": "*",
            "dow": "*",
            "begin": "00:00",
            "end": "23:59",
        },
    }


def test_snapshot_check_reports_one_failure_per_bad_field_with_the_context(sim: TrueNASSimulator) -> None:
    found = failures(
        SnapshotTaskProvider(),
        snapshot_inputs(
            sim,
            dataset="/mnt/tank/photos",
            naming_schema="daily-%Y",
            lifetime_value=0,
            lifetime_unit="FORTNIGHT",
            exclude=["tank/other"],
            schedule={"minute": "75", "begin": "25:00", "every": "day"},
            enabled="yes",
            retention="forever",
            connection={"url": "ws://nas.lan/api/current", "api_key": "1-s3cret"},
        ),
    )
    assert found == {
        "retention": "photos (daily): unknown input; allowed: allow_empty, connection, context, dataset, enabled, "
        "exclude, fixate_removal_date, lifetime_unit, lifetime_value, naming_schema, recursive, schedule",
        "connection.url": "photos (daily): plain ws:// is only allowed for loopback tests; TrueNAS revokes API keys "
        "sent without TLS, so use wss://",
        "enabled": "photos (daily): must be true or false",
        "dataset": "photos (daily): must be a ZFS dataset name like tank/photos (no /mnt/ prefix, no trailing /)",
        "lifetime_value": "photos (daily): must be a whole number >= 1 (how many lifetime_units to keep)",
        "lifetime_unit": "photos (daily): must be one of HOUR, DAY, WEEK, MONTH, YEAR",
        "naming_schema": "photos (daily): must contain %Y %m %d %H %M (missing %m %d %H %M), e.g. "
        "'auto-%Y-%m-%d_%H-%M'",
        "exclude": "photos (daily): only works with recursive=true; set it or drop exclude",
        "exclude[0]": "photos (daily): 'tank/other' is not below /mnt/tank/photos; exclude only its descendants",
        "schedule.every": "photos (daily): unknown schedule key; allowed: minute, hour, dom, month, dow, begin, end",
        "schedule.begin": "photos (daily): must be a time of day like '08:00'",
        "schedule": "photos (daily): '75 * * * *' is not a valid cron schedule ([75 * * * *] is not acceptable, out "
        "of range); dow runs 1 (Mon) to 7 (Sun)",
    }
    assert all("s3cret" not in reason for reason in found.values())


def test_snapshot_task_create_refresh_update_delete(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    inputs = checked(provider, snapshot_inputs(sim))
    created = provider.create(inputs)
    task_id = int(created.id)
    assert created.outs == {**without_provider(inputs), "task_id": task_id}
    stored = sim.rows(SNAPSHOT_TASKS)[task_id]
    assert (stored["dataset"], stored["lifetime_value"], stored["schedule"]["hour"]) == ("tank/photos", 14, "3")
    assert provider.diff(created.id, created.outs, inputs).changes is False

    sim.edit(SNAPSHOT_TASKS, task_id, lifetime_value=3, enabled=False)
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["lifetime_value"], refreshed.outs["enabled"]) == (3, False)
    assert refreshed.inputs == {key: value for key, value in refreshed.outs.items() if key != "task_id"}
    drift = provider.diff(created.id, refreshed.outs, inputs)
    assert (drift.changes, drift.replaces) == (True, [])

    updated = provider.update(created.id, refreshed.outs, inputs)
    assert updated.outs == created.outs
    assert (sim.rows(SNAPSHOT_TASKS)[task_id]["lifetime_value"], sim.calls.count("pool.snapshottask.update")) == (14, 1)

    provider.delete(created.id, updated.outs)
    provider.delete(created.id, updated.outs)
    assert sim.rows(SNAPSHOT_TASKS) == {}
    assert provider.read(created.id, updated.outs).id == ""


def test_snapshot_task_moves_to_another_dataset_in_place(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    olds = checked(provider, snapshot_inputs(sim))
    created = provider.create(olds)
    news = checked(provider, snapshot_inputs(sim, dataset="tank/vaultwarden", fixate_removal_date=True), olds)
    diff = provider.diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, created.outs, news)
    assert (updated.outs["dataset"], updated.outs["task_id"]) == ("tank/vaultwarden", int(created.id))
    assert list(sim.rows(SNAPSHOT_TASKS)) == [int(created.id)]


def test_context_only_change_is_an_update_without_an_api_write(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    olds = checked(provider, snapshot_inputs(sim))
    created = provider.create(olds)
    news = checked(provider, snapshot_inputs(sim, context="photos (renamed label)"))
    assert provider.diff(created.id, created.outs, news).changes is True
    assert provider.update(created.id, created.outs, news).outs["context"] == "photos (renamed label)"
    assert "pool.snapshottask.update" not in sim.calls


def test_import_snapshot_task_by_id(sim: TrueNASSimulator) -> None:
    with TrueNASClient(ConnectionSettings.from_dict(sim.connection())) as api:
        made_in_ui = api.call(
            "pool.snapshottask.create",
            {"dataset": "tank/vaultwarden", "lifetime_value": 6, "lifetime_unit": "HOUR", "schedule": {"minute": "0"}},
        )
    provider = SnapshotTaskProvider()
    imported = provider.read(str(made_in_ui["id"]), {"connection": sim.connection(), "context": "vault (hourly)"})
    assert imported.id == str(made_in_ui["id"])
    assert imported.outs["task_id"] == made_in_ui["id"]
    assert imported.inputs == {
        "connection": sim.connection(),
        "context": "vault (hourly)",
        "fixate_removal_date": False,
        "dataset": "tank/vaultwarden",
        "recursive": False,
        "exclude": [],
        "lifetime_value": 6,
        "lifetime_unit": "HOUR",
        "naming_schema": "auto-%Y-%m-%d_%H-%M",
        "enabled": True,
        "allow_empty": True,
        "schedule": {
            "minute": "0",
            "hour": "*",
            "dom": "*",
            "month": "*",
            "dow": "*",
            "begin": "00:00",
            "end": "23:59",
        },
    }
    program = checked(provider, imported.inputs)
    assert provider.diff(imported.id, imported.outs, program).changes is False
    with pytest.raises(TrueNASResourceError, match="'snap-1' is not a TrueNAS id; import with the numeric id"):
        provider.read("snap-1", {"connection": sim.connection()})


def test_engine_doubles_are_accepted_as_whole_numbers() -> None:
    from providers.truenas.snapshot_tasks import SnapshotTaskProvider

    news = {"connection": {"url": "wss://nas.lan/api/current", "api_key": "1-key"}, "dataset": "tank/photos",
            "lifetime_value": 14.0, "lifetime_unit": "DAY", "naming_schema": "hlb-daily-%Y-%m-%d_%H-%M",
            "schedule": {"minute": "5", "hour": "1", "dom": "*", "month": "*", "dow": "*"}}
    result = SnapshotTaskProvider().check({}, news)
    assert result.failures == []
    assert result.inputs["lifetime_value"] == 14 and isinstance(result.inputs["lifetime_value"], int)
