"""What every TrueNAS service shares: unknowns in check, error translation, all-or-nothing create, lost
connections, pickling, registration under mocks, and the requests captured from real previews.
"""

from __future__ import annotations

from typing import Any

import dill
import pulumi
import pytest
from pulumi.runtime import rpc

from providers.truenas.cloud_credentials import CloudCredential, CloudCredentialProvider
from providers.truenas.cloud_sync_tasks import CloudSyncTask, CloudSyncTaskProvider, healthchecks_scripts
from providers.truenas.service import TrueNASResourceError
from providers.truenas.snapshot_tasks import SnapshotTask, SnapshotTaskProvider
from tests.mocks import RecordingMonitor
from tests.providers import wire_forms
from tests.providers.truenas.inputs import (
    PASSWORD,
    PING,
    SALT,
    checked,
    cloud_sync_inputs,
    credential_inputs,
    failures,
    make_credential,
    snapshot_inputs,
)
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import CLOUD_SYNC, SNAPSHOT_TASKS


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


@pytest.mark.parametrize("provider", [SnapshotTaskProvider(), CloudCredentialProvider(), CloudSyncTaskProvider()])
def test_providers_pickle_by_reference_and_hold_no_client(provider: Any) -> None:
    blob = dill.dumps(provider, recurse=True)
    assert type(provider).__module__.encode() in blob
    assert len(blob) < 500
    assert vars(dill.loads(blob)) == {}


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
        registered = {name: (r.type, sorted(r.additionalSecretOutputs)) for name, r in mocked.registered().items()}
        assert registered == {
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
        read = {name: (r.type, r.id, sorted(r.additionalSecretOutputs)) for name, r in mocked.read().items()}
        assert read == {
            "vault-hourly": ("pulumi-python:dynamic/truenas:SnapshotTask", "12", ["connection"]),
            "photos-b2": (
                "pulumi-python:dynamic/truenas:CloudSyncTask",
                "4",
                ["connection", "encryption_password", "encryption_salt", "post_script", "pre_script"],
            ),
        }

    return read()


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
