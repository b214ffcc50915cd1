"""TrueNAS dynamic providers through their whole lifecycle against the loopback simulator, plus a mocks test.

The provider methods are called the way the Python dynamic-provider host calls them: `check` sees the program's
inputs (with `__provider`), `create`/`update` get checked inputs, `read`/`delete` get the stored outputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import dill
import pulumi
import pytest
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor

from providers.truenas.client import ConnectionSettings, TrueNASClient
from providers.truenas.cloud_credentials import CloudCredential, CloudCredentialProvider
from providers.truenas.cloud_sync_tasks import CloudSyncTask, CloudSyncTaskProvider, healthchecks_scripts
from providers.truenas.service import TrueNASResourceError
from providers.truenas.snapshot_tasks import SnapshotTask, SnapshotTaskProvider, naming_schema_problem
from tests.providers import wire_forms
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import CLOUD_SYNC, CREDENTIALS, SNAPSHOT_TASKS

PING = "https://hc-ping.com/0f6a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"
PASSWORD = "correct-horse-battery-staple"
SALT = "pepper-and-salt-0123"


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator() as simulator:
        yield simulator


def checked(provider: Any, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    result = provider.check(dict(olds or {}), {"__provider": "<serialized provider>", **news})
    assert [(f.property, f.reason) for f in result.failures] == []
    return result.inputs


def failures(provider: Any, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, str]:
    result = provider.check(dict(olds or {}), {"__provider": "<serialized provider>", **news})
    return {f.property: f.reason for f in result.failures}


def without_provider(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key != "__provider"}


def snapshot_inputs(sim: TrueNASSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": sim.connection(),
        "context": "photos (daily)",
        "dataset": "tank/photos",
        "lifetime_value": 14,
        "lifetime_unit": "DAY",
        "naming_schema": "daily-%Y-%m-%d_%H-%M",
        "schedule": {"minute": "30", "hour": "3"},
        **overrides,
    }


def credential_inputs(sim: TrueNASSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": sim.connection(),
        "context": "b2 offsite",
        "name": "b2-photos",
        "provider": {"type": "B2", "account": "0012ab34cd", "key": "K001-app-key"},
        **overrides,
    }


def cloud_sync_inputs(sim: TrueNASSimulator, credential_id: int | str, **overrides: Any) -> dict[str, Any]:
    pre, post = healthchecks_scripts(PING)
    return {
        "connection": sim.connection(),
        "context": "photos -> b2",
        "description": "photos to b2",
        "path": "/mnt/tank/photos",
        "credentials": credential_id,
        "attributes": {"bucket": "homelab-photos", "folder": "nas/photos"},
        "schedule": {"minute": "15", "hour": "4"},
        "direction": "PUSH",
        "transfer_mode": "SYNC",
        "encryption": True,
        "filename_encryption": True,
        "encryption_password": PASSWORD,
        "encryption_salt": SALT,
        "pre_script": pre,
        "post_script": post,
        "offsite": True,
        **overrides,
    }


def make_credential(sim: TrueNASSimulator) -> int:
    provider = CloudCredentialProvider()
    return int(provider.create(checked(provider, credential_inputs(sim))).id)


# --- pure helpers --------------------------------------------------------------------------------------------------


def test_healthchecks_scripts_ping_start_then_success_and_a_failed_success_ping_fails_the_task() -> None:
    pre, post = healthchecks_scripts(PING + "/")
    assert pre.splitlines()[-1] == f"curl -fsS -m 10 --retry 5 -o /dev/null {PING}/start || true"
    assert post.splitlines()[-1] == f"curl -fsS -m 10 --retry 5 -o /dev/null {PING}"
    for script in (pre, post):
        assert script.startswith("#!/bin/sh\n")
        assert not any(word in script for word in ("env", "echo", "printenv", "set -x", "$"))
    slug_pre, _ = healthchecks_scripts("https://hc.lan/ping/k3y/photos-offsite?create=1")
    assert "https://hc.lan/ping/k3y/photos-offsite/start?create=1" in slug_pre


@pytest.mark.parametrize("url", ["hc-ping.com/uuid", "https://hc-ping.com/", "https://x/$(reboot)", "https://x/a b"])
def test_healthchecks_scripts_refuse_urls_that_are_not_plain(url: str) -> None:
    with pytest.raises(ValueError, match="plain http"):
        healthchecks_scripts(url)


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


# --- check ---------------------------------------------------------------------------------------------------------


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


def test_check_tolerates_unknowns_during_preview(sim: TrueNASSimulator) -> None:
    snapshot = SnapshotTaskProvider()
    assert (
        failures(
            snapshot,
            snapshot_inputs(sim, dataset=rpc.UNKNOWN, naming_schema=rpc.UNKNOWN, exclude=[rpc.UNKNOWN], recursive=True),
        )
        == {}
    )
    connection = {**sim.connection(), "url": rpc.UNKNOWN, "api_key": rpc.UNKNOWN}
    assert failures(snapshot, snapshot_inputs(sim, connection=connection)) == {}
    assert failures(snapshot, snapshot_inputs(sim, connection=rpc.UNKNOWN)) == {}
    sync = CloudSyncTaskProvider()
    assert (
        failures(
            sync,
            cloud_sync_inputs(
                sim, rpc.UNKNOWN, encryption_password=rpc.UNKNOWN, attributes={"bucket": rpc.UNKNOWN, "folder": ""}
            ),
        )
        == {}
    )
    credential = CloudCredentialProvider()
    assert (
        failures(
            credential,
            credential_inputs(
                sim, provider={"type": "S3", "access_key_id": rpc.UNKNOWN, "secret_access_key": rpc.UNKNOWN}
            ),
        )
        == {}
    )
    olds = checked(snapshot, snapshot_inputs(sim))
    diff = snapshot.diff("1", olds, {**olds, "dataset": rpc.UNKNOWN})
    assert (diff.changes, diff.replaces) == (True, [])


def test_cloud_sync_check_rules(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    found = failures(
        provider,
        cloud_sync_inputs(
            sim,
            3,
            encryption=False,
            schedule=None,
            path="/srv/photos",
            credentials="b2",
            direction="UP",
            transfer_mode="MIRROR",
            attributes={"folder": 7},
            transfers=0,
            snapshot=True,
            bwlimit=[{"time": "18:00", "bandwidth": 1_000_000}, {"time": "08:00", "bandwidth": None}],
        ),
    )
    assert {key: value.removeprefix("photos -> b2: ") for key, value in found.items()} == {
        "path": "must be a path inside a pool such as /mnt/tank/photos",
        "credentials": "must be the id of a cloud credential (CloudCredential.id)",
        "attributes.bucket": "required: the bucket name",
        "attributes.folder": "required: the folder inside the bucket ('' for its root)",
        "schedule": "required: {minute, hour, dom, month, dow} (TrueNAS 25.04 has no default)",
        "direction": "must be PUSH (NAS to cloud) or PULL (cloud to NAS)",
        "transfer_mode": "must be SYNC, COPY or MOVE",
        "transfers": "must be a whole number >= 1, or null for rclone's default",
        "bwlimit": "entries must be in strictly increasing time order",
    }


def test_offsite_push_must_encrypt(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=False)) == {
        "encryption": "photos -> b2: an offsite PUSH task must encrypt client-side: set encryption=true with "
        "encryption_password and encryption_salt (secrets)"
    }
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=True, encryption_password="")) == {
        "encryption_password": "photos -> b2: required when encryption is true; pass it as a secret"
    }
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=False, offsite=False)) == {}


def test_rekeying_in_place_is_refused_but_a_new_folder_is_fine(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    olds = checked(provider, cloud_sync_inputs(sim, 1))
    rekeyed = cloud_sync_inputs(sim, 1, encryption_password="a-new-password")
    assert list(failures(provider, rekeyed, olds)) == ["encryption_password"]
    assert "new folder" in failures(provider, rekeyed, olds)["encryption_password"]
    assert PASSWORD not in str(failures(provider, rekeyed, olds))
    moved = {**rekeyed, "attributes": {"bucket": "homelab-photos", "folder": "nas/photos-2026"}}
    assert failures(provider, moved, olds) == {}


def test_credential_check_rules(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    assert failures(provider, credential_inputs(sim, provider={"type": "DROPBOX", "token": "t"})) == {
        "provider.type": "b2 offsite: must be one of B2, S3 (S3 covers R2, AWS and S3-compatible stores)"
    }
    assert failures(
        provider,
        credential_inputs(
            sim,
            name="",
            provider={
                "type": "S3",
                "access_key_id": "a",
                "endpoint": "s3.example.com",
                "skip_region": "no",
                "token": "x",
            },
        ),
    ) == {
        "name": "b2 offsite: required: a unique, non-empty name shown in the TrueNAS UI",
        "provider.token": "b2 offsite: not a S3 credential key; allowed: access_key_id, secret_access_key, endpoint, "
        "region, skip_region, signatures_v2, max_upload_parts",
        "provider.secret_access_key": "b2 offsite: required for S3 credentials",
        "provider.skip_region": "b2 offsite: must be a bool",
        "provider.endpoint": "b2 offsite: must be '' (AWS) or a URL like https://s3.eu-central-003.backblazeb2.com",
    }


# --- snapshot task lifecycle ---------------------------------------------------------------------------------------


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


def test_nas_validation_errors_name_the_field_and_the_fix(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    with pytest.raises(TrueNASResourceError) as caught:
        provider.create(checked(provider, snapshot_inputs(sim, dataset="tank/not-there")))
    assert str(caught.value) == (
        "photos (daily): TrueNAS refused to create the periodic snapshot task: dataset: Dataset not found -> create "
        "the dataset first or fix the name: pool/dataset, without /mnt/"
    )


def test_update_of_a_task_deleted_in_the_ui_says_to_refresh(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    olds = checked(provider, snapshot_inputs(sim))
    created = provider.create(olds)
    sim.remove(SNAPSHOT_TASKS, int(created.id))
    with pytest.raises(TrueNASResourceError, match="deleted outside Pulumi; run `pulumi refresh`"):
        provider.update(created.id, created.outs, checked(provider, snapshot_inputs(sim, lifetime_value=30)))


# --- cloud credential lifecycle ------------------------------------------------------------------------------------


def test_credential_lifecycle_and_replacement_on_type_change(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    created = provider.create(inputs)
    assert created.outs["provider_type"] == "B2"
    assert created.outs["provider"] == inputs["provider"]
    assert provider.diff(created.id, created.outs, inputs).changes is False

    renamed = checked(
        provider,
        credential_inputs(sim, name="b2-photos-eu", provider={**inputs["provider"], "key": "K001-rotated"}),
        inputs,
    )
    diff = provider.diff(created.id, created.outs, renamed)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, created.outs, renamed)
    assert sim.rows(CREDENTIALS)[int(created.id)]["provider"]["key"] == "K001-rotated"

    to_s3 = checked(
        provider,
        credential_inputs(
            sim,
            provider={
                "type": "S3",
                "access_key_id": "AKID",
                "secret_access_key": "S3KEY",
                "endpoint": "https://s3.eu-central-003.backblazeb2.com",
            },
        ),
        renamed,
    )
    assert to_s3["provider"]["endpoint"] == "https://s3.eu-central-003.backblazeb2.com/"
    diff = provider.diff(created.id, updated.outs, to_s3)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["provider"], True)
    provider.delete(created.id, updated.outs)
    replacement = provider.create(to_s3)
    assert provider.diff(replacement.id, replacement.outs, to_s3).changes is False
    provider.delete(replacement.id, replacement.outs)
    provider.delete(replacement.id, replacement.outs)
    assert sim.rows(CREDENTIALS) == {}


def test_credential_refresh_keeps_secrets_the_nas_redacts(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    created = provider.create(inputs)
    sim.redact_secrets = True
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["provider"] == inputs["provider"]
    assert provider.diff(created.id, refreshed.outs, inputs).changes is False
    sim.redact_secrets = False
    sim.edit(CREDENTIALS, int(created.id), provider={**inputs["provider"], "key": "changed-in-the-ui"})
    drifted = provider.read(created.id, created.outs)
    assert provider.diff(created.id, drifted.outs, inputs).changes is True


def test_credential_in_use_cannot_be_deleted_and_says_why(sim: TrueNASSimulator) -> None:
    credential_id = make_credential(sim)
    sync = CloudSyncTaskProvider()
    sync.create(checked(sync, cloud_sync_inputs(sim, credential_id)))
    credentials = CloudCredentialProvider()
    outs = credentials.read(str(credential_id), {"connection": sim.connection(), "context": "b2 offsite"}).outs
    with pytest.raises(TrueNASResourceError) as caught:
        credentials.delete(str(credential_id), outs)
    assert str(caught.value) == (
        "b2 offsite: TrueNAS could not delete the cloud credential: This credential is used by cloud sync task "
        "photos to b2 -> delete the cloud sync tasks using this credential, or point them at another credential, first"
    )


# --- cloud sync lifecycle ------------------------------------------------------------------------------------------


def test_cloud_sync_task_create_refresh_update_delete(sim: TrueNASSimulator) -> None:
    credential_id = make_credential(sim)
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, str(credential_id)))
    assert inputs["credentials"] == credential_id
    created = provider.create(inputs)
    stored = sim.rows(CLOUD_SYNC)[int(created.id)]
    assert (stored["credentials"], stored["encryption_password"], stored["post_script"]) == (
        credential_id,
        PASSWORD,
        inputs["post_script"],
    )
    assert created.outs == {**without_provider(inputs), "task_id": int(created.id)}
    assert provider.diff(created.id, created.outs, inputs).changes is False

    # The NAS adds keys of its own to attributes; they are not drift.
    sim.edit(CLOUD_SYNC, int(created.id), attributes={**stored["attributes"], "region": "eu-central-003"})
    assert provider.diff(created.id, provider.read(created.id, created.outs).outs, inputs).changes is False

    sim.edit(CLOUD_SYNC, int(created.id), enabled=False, encryption_password="typed-in-the-ui")
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["enabled"], refreshed.inputs["encryption_password"]) == (False, "typed-in-the-ui")
    drift = provider.diff(created.id, refreshed.outs, inputs)
    assert (drift.changes, drift.replaces) == (True, [])
    updated = provider.update(created.id, refreshed.outs, inputs)
    assert (updated.outs["enabled"], sim.rows(CLOUD_SYNC)[int(created.id)]["encryption_password"]) == (True, PASSWORD)

    provider.delete(created.id, updated.outs)
    provider.delete(created.id, updated.outs)
    assert sim.rows(CLOUD_SYNC) == {}


def test_cloud_sync_refresh_with_redacted_secrets_is_not_drift(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, make_credential(sim)))
    created = provider.create(inputs)
    sim.redact_secrets = True
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["encryption_password"], refreshed.outs["encryption_salt"]) == (PASSWORD, SALT)
    assert provider.diff(created.id, refreshed.outs, inputs).changes is False


# --- faults --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("applied", [True, False], ids=["reply-lost", "request-lost"])
def test_drop_during_create_leaves_no_orphan_and_a_rerun_converges(sim: TrueNASSimulator, applied: bool) -> None:
    provider = SnapshotTaskProvider()
    inputs = checked(provider, snapshot_inputs(sim))
    sim.drop_connection(method="pool.snapshottask.create", applied=applied)
    with pytest.raises(TrueNASResourceError) as caught:
        provider.create(inputs)
    outcome = "(id 1) was deleted again" if applied else "no periodic snapshot task was created"
    assert "photos (daily): the connection dropped while creating the periodic snapshot task" in str(caught.value)
    assert f"{outcome}, so nothing is left behind. Re-run `pulumi up`" in str(caught.value)
    assert sim.rows(SNAPSHOT_TASKS) == {}
    rerun = provider.create(inputs)
    assert list(sim.rows(SNAPSHOT_TASKS)) == [int(rerun.id)]


def test_drop_after_create_rolls_the_create_back(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, make_credential(sim)))
    sim.drop_connection(method="cloudsync.query", skip=1)
    with pytest.raises(TrueNASResourceError, match="could not read it back .* it was deleted again, so nothing is"):
        provider.create(inputs)
    assert sim.rows(CLOUD_SYNC) == {}
    assert provider.create(inputs).id == "1"


def test_lost_create_of_a_credential_is_cleaned_up_by_name(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    sim.drop_connection(method="cloudsync.credentials.create", applied=True)
    with pytest.raises(TrueNASResourceError, match="was deleted again"):
        provider.create(inputs)
    assert sim.rows(CREDENTIALS) == {}
    assert provider.create(inputs).outs["name"] == "b2-photos"


def test_lost_create_that_cannot_be_checked_tells_the_user_what_to_clean(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    inputs = checked(provider, snapshot_inputs(sim))
    sim.drop_connection(method="pool.snapshottask.create", applied=True)
    sim.drop_connection(method="auth.login_with_api_key", skip=1)
    with pytest.raises(TrueNASResourceError) as caught:
        provider.create(inputs)
    assert (
        "look in Data Protection > Periodic Snapshot Tasks for a periodic snapshot task matching this one and "
        "delete it" in str(caught.value)
    )


def test_unreachable_nas_fails_cleanly_everywhere(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    inputs = checked(provider, snapshot_inputs(sim))
    created = provider.create(inputs)
    sim.stop()
    operations = {
        "create": lambda: provider.create(inputs),
        "read": lambda: provider.read(created.id, created.outs),
        "update": lambda: provider.update(created.id, created.outs, {**inputs, "lifetime_value": 30}),
        "delete": lambda: provider.delete(created.id, created.outs),
    }
    for action, call in operations.items():
        with pytest.raises(TrueNASResourceError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(
            f"photos (daily): cannot {action} the periodic snapshot task because the NAS is "
            "unreachable (cannot connect to 127.0.0.1"
        ), message
        assert sim.api_key not in message


def test_update_timeout_then_rerun_converges(sim: TrueNASSimulator) -> None:
    provider = SnapshotTaskProvider()
    olds = checked(provider, snapshot_inputs(sim, connection=sim.connection(call_timeout=0.3)))
    created = provider.create(olds)
    news = checked(provider, snapshot_inputs(sim, connection=sim.connection(call_timeout=0.3), lifetime_value=30))
    sim.set_delay(1.0, "pool.snapshottask.update")
    with pytest.raises(TrueNASResourceError, match="no reply to pool.snapshottask.update .* within 0.3s"):
        provider.update(created.id, created.outs, news)
    sim.clear_faults()
    assert provider.update(created.id, created.outs, news).outs["lifetime_value"] == 30


def test_rejected_api_key_and_secrets_stay_out_of_messages(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, 99))
    with pytest.raises(TrueNASResourceError) as invalid:
        provider.create(inputs)
    assert "credentials: Invalid credentials -> create the CloudCredential first and pass its id" in str(invalid.value)
    sim.reject_auth = True
    with pytest.raises(TrueNASResourceError) as refused:
        provider.create(inputs)
    assert "rejected the API key" in str(refused.value)
    for error in (invalid.value, refused.value):
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(str(item) for item in chain if item is not None)
        for secret in (sim.api_key, PASSWORD, SALT):
            assert secret not in text


# --- serialisation and registration --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [SnapshotTaskProvider(), CloudCredentialProvider(), CloudSyncTaskProvider()])
def test_providers_pickle_by_reference_and_hold_no_client(provider: Any) -> None:
    blob = dill.dumps(provider, recurse=True)
    assert type(provider).__module__.encode() in blob
    assert len(blob) < 500
    assert vars(dill.loads(blob)) == {}


@pytest.mark.parametrize("name", ["SnapshotTaskProvider", "CloudCredentialProvider", "CloudSyncTaskProvider"])
def test_state_pickled_before_the_split_still_finds_its_provider(name: str) -> None:
    """State written before one module per service names `providers.truenas.resources.<Provider>`."""
    old_reference = f"cproviders.truenas.resources\n{name}\n.".encode()
    provider_class = dill.loads(old_reference)
    assert provider_class.__name__ == name
    assert provider_class.__module__ != "providers.truenas.resources"


class RecordingMonitor(MockMonitor):
    """The mock monitor, remembering each registration's type and additional secret outputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: dict[str, tuple[str, list[str]]] = {}
        self.read: dict[str, tuple[str, str, list[str]]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type != "pulumi:pulumi:Stack":
            self.registered[request.name] = (request.type, sorted(request.additionalSecretOutputs))
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.read[request.name] = (request.type, request.id, sorted(request.additionalSecretOutputs))
        return super().ReadResource(request)


class TaskMocks(pulumi.runtime.Mocks):
    """Echo inputs back, plus what the NAS would compute, as the engine would after a create or read."""

    computed: ClassVar[dict[str, dict[str, Any]]] = {
        "pulumi-python:dynamic/truenas:SnapshotTask": {"task_id": 7},
        "pulumi-python:dynamic/truenas:CloudCredential": {"credential_id": 3, "provider_type": "B2"},
        "pulumi-python:dynamic/truenas:CloudSyncTask": {"task_id": 8},
    }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return args.resource_id or f"{args.name}-id", {**args.inputs, **self.computed.get(args.typ, {})}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture(params=[False, True], ids=["up", "preview"])
def mocked(request: pytest.FixtureRequest) -> Iterator[RecordingMonitor]:
    saved = {name: getattr(settings.SETTINGS, name) for name in ("monitor", "engine", "dry_run", "project", "stack")}
    saved_root = settings.get_root_resource()
    mocks = TaskMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, preview=request.param, monitor=monitor)
    yield monitor
    for name, value in saved.items():
        setattr(settings.SETTINGS, name, value)
    settings.ROOT.set(saved_root)


@pulumi.runtime.test
def test_resources_register_their_own_types_and_keep_secrets_secret(mocked: RecordingMonitor) -> Any:
    connection = pulumi.Output.secret({"url": "wss://nas.lan/api/current", "api_key": "1-k"})
    credential = CloudCredential(
        "b2-photos",
        connection=connection,
        name="b2-photos",
        provider=pulumi.Output.secret({"type": "B2", "account": "a", "key": "k"}),
    )
    snapshot = SnapshotTask("photos-daily", connection=connection, dataset="tank/photos", context="photos")
    pre, post = healthchecks_scripts(PING)
    sync = CloudSyncTask(
        "photos-b2",
        connection=connection,
        path="/mnt/tank/photos",
        credentials=credential.id,
        attributes={"bucket": "homelab-photos", "folder": ""},
        schedule={"minute": "0", "hour": "4"},
        direction="PUSH",
        transfer_mode="SYNC",
        encryption=True,
        encryption_password=pulumi.Output.secret(PASSWORD),
        encryption_salt=pulumi.Output.secret(SALT),
        pre_script=pulumi.Output.secret(pre),
        post_script=pulumi.Output.secret(post),
        offsite=True,
    )

    async def registered_and_secret() -> None:
        expected = {
            "CloudCredential.connection": (credential.connection, True),
            "CloudCredential.provider": (credential.provider, True),
            "CloudCredential.provider_type": (credential.provider_type, False),
            "SnapshotTask.connection": (snapshot.connection, True),
            "SnapshotTask.dataset": (snapshot.dataset, False),
            "CloudSyncTask.encryption_password": (sync.encryption_password, True),
            "CloudSyncTask.encryption_salt": (sync.encryption_salt, True),
            # The scripts carry the Healthchecks ping URL, so the project ping key: secret in the state.
            "CloudSyncTask.post_script": (sync.post_script, True),
        }
        actual = {name: await output.is_secret() for name, (output, _) in expected.items()}
        assert actual == {name: secret for name, (_, secret) in expected.items()}
        assert mocked.registered == {
            "b2-photos": ("pulumi-python:dynamic/truenas:CloudCredential", ["connection", "provider"]),
            "photos-daily": ("pulumi-python:dynamic/truenas:SnapshotTask", ["connection"]),
            "photos-b2": (
                "pulumi-python:dynamic/truenas:CloudSyncTask",
                ["connection", "encryption_password", "encryption_salt", "post_script", "pre_script"],
            ),
        }, f"registered types or secret outputs differ: {[await r.urn.future() for r in (credential, snapshot, sync)]}"

    return registered_and_secret()


@pulumi.runtime.test
def test_get_reads_an_existing_object_by_id(mocked: RecordingMonitor) -> Any:
    connection = pulumi.Output.secret({"url": "wss://nas.lan/api/current", "api_key": "1-k"})
    task = SnapshotTask.get("vault-hourly", "12", connection=connection, context="vault (hourly)")
    sync = CloudSyncTask.get("photos-b2", "4", connection=connection)

    async def read() -> None:
        assert (await task.id.future(), await task.task_id.future()) == ("12", 7)
        assert (await sync.id.future(), await sync.task_id.future()) == ("4", 8)
        assert await task.connection.is_secret()
        assert mocked.read == {
            "vault-hourly": ("pulumi-python:dynamic/truenas:SnapshotTask", "12", ["connection"]),
            "photos-b2": (
                "pulumi-python:dynamic/truenas:CloudSyncTask",
                "4",
                ["connection", "encryption_password", "encryption_salt", "post_script", "pre_script"],
            ),
        }

    return read()


def test_engine_doubles_are_accepted_as_whole_numbers() -> None:
    from providers.truenas.snapshot_tasks import SnapshotTaskProvider

    news = {"connection": {"url": "wss://nas.lan/api/current", "api_key": "1-key"}, "dataset": "tank/photos",
            "lifetime_value": 14.0, "lifetime_unit": "DAY", "naming_schema": "hlb-daily-%Y-%m-%d_%H-%M",
            "schedule": {"minute": "5", "hour": "1", "dom": "*", "month": "*", "dow": "*"}}
    result = SnapshotTaskProvider().check({}, news)
    assert result.failures == []
    assert result.inputs["lifetime_value"] == 14 and isinstance(result.inputs["lifetime_value"], int)


# --- requests captured from real previews (tests/providers/wire_forms) ------------------------------------------

TRUENAS_PROVIDERS = {
    "truenas:SnapshotTask": SnapshotTaskProvider,
    "truenas:CloudCredential": CloudCredentialProvider,
    "truenas:CloudSyncTask": CloudSyncTaskProvider,
}
CAPTURED_CHECKS = [(t, r) for t in TRUENAS_PROVIDERS for r in wire_forms.of_type(t, "Check")]
CAPTURED_DIFFS = [(t, r) for t in TRUENAS_PROVIDERS for r in wire_forms.of_type(t, "Diff")]


@pytest.mark.parametrize("kind", TRUENAS_PROVIDERS)
def test_a_real_empty_stack_preview_was_captured_for(kind: str) -> None:
    """Tasks get unknown credential ids and generated secrets; a B2 credential's keys come from an unknown key."""
    checks = [r for r in wire_forms.of_type(kind, "Check") if r["step"].startswith("preview-empty")]
    assert checks and any(wire_forms.has_unknowns(r["news"]) for r in checks) is (kind != "truenas:SnapshotTask")


@pytest.mark.parametrize(("kind", "record"), CAPTURED_CHECKS, ids=[wire_forms.record_id(r) for _, r in CAPTURED_CHECKS])
def test_check_accepts_what_a_real_preview_sends(kind: str, record: dict[str, Any]) -> None:
    """The estates are valid, so every captured request must pass, unknowns included (the CloudSyncTask bug)."""
    result = wire_forms.check(TRUENAS_PROVIDERS[kind](), record)
    assert [(f.property, f.reason) for f in result.failures] == []


@pytest.mark.parametrize(("kind", "record"), CAPTURED_DIFFS, ids=[wire_forms.record_id(r) for _, r in CAPTURED_DIFFS])
def test_diff_of_what_a_real_preview_sends(kind: str, record: dict[str, Any]) -> None:
    result = wire_forms.diff(TRUENAS_PROVIDERS[kind](), record)
    if record["step"] in wire_forms.NO_CHANGE_STEPS:
        assert (result.changes, result.replaces) == (False, [])
    else:
        # Only the unknown values (the id of a credential being replaced) are possible changes; none replaces.
        assert result.changes is wire_forms.has_unknowns(record["news"])
        assert result.replaces == []
