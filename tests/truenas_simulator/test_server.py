"""The TrueNAS simulator follows the published 25.04 API: defaults, validation messages, error shapes, faults.

Expected values come from the middleware sources (api/v25_04_0/*.py, plugins/snapshot.py, plugins/cloud_sync.py,
the legacy schema layer and the JSON-RPC handler), so a drift between the simulator and TrueNAS shows up here rather
than as a provider test that passes against the wrong behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.truenas_simulator import SECRET_VALUE, TrueNASSimulator
from tests.truenas_simulator.server import CLOUD_SYNC, CREDENTIALS, SNAPSHOT_TASKS


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator() as simulator:
        yield simulator


class Raw:
    """A bare JSON-RPC session that returns whole answers, so error shapes can be asserted as sent."""

    def __init__(self, url: str) -> None:
        self.ws: ClientConnection = connect(url, proxy=None, legacy=True)
        self.next_id = 0

    def send(self, method: str, *params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": list(params)}))
        return json.loads(self.ws.recv(timeout=5))

    def ok(self, method: str, *params: Any) -> Any:
        answer = self.send(method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    def extra(self, method: str, *params: Any) -> list[list[Any]]:
        answer = self.send(method, *params)
        assert answer["error"]["code"] == -32602, answer
        return answer["error"]["data"]["extra"]


@pytest.fixture
def rpc(sim: TrueNASSimulator) -> Iterator[Raw]:
    raw = Raw(sim.url)
    assert raw.ok("auth.login_with_api_key", sim.api_key) is True
    yield raw
    raw.ws.close()


B2 = {"type": "B2", "account": "0012ab", "key": "K001secret"}
S3 = {"type": "S3", "access_key_id": "AKIA", "secret_access_key": "s3cret", "endpoint": "https://s3.example.com"}


def cloud_sync(credentials: int, **overrides: Any) -> dict[str, Any]:
    return {
        "path": "/mnt/tank/photos",
        "credentials": credentials,
        "attributes": {"bucket": "photos", "folder": ""},
        "schedule": {"minute": "15", "hour": "2"},
        "direction": "PUSH",
        "transfer_mode": "SYNC",
        **overrides,
    }


# --- defaults --------------------------------------------------------------------------------------------------------


def test_snapshot_task_defaults(rpc: Raw) -> None:
    assert rpc.ok("pool.snapshottask.create", {"dataset": "tank/photos"}) == {
        "id": 1,
        "dataset": "tank/photos",
        "recursive": False,
        "lifetime_value": 2,
        "lifetime_unit": "WEEK",
        "enabled": True,
        "exclude": [],
        "naming_schema": "auto-%Y-%m-%d_%H-%M",
        "allow_empty": True,
        "schedule": {
            "minute": "00",
            "hour": "*",
            "dom": "*",
            "month": "*",
            "dow": "*",
            "begin": "00:00",
            "end": "23:59",
        },
        "vmware_sync": False,
        "state": {"state": "PENDING"},
    }


def test_credential_defaults_and_url_normalisation(rpc: Raw) -> None:
    assert rpc.ok("cloudsync.credentials.create", {"name": "b2", "provider": B2}) == {
        "id": 1,
        "name": "b2",
        "provider": B2,
    }
    s3 = rpc.ok("cloudsync.credentials.create", {"name": "s3", "provider": S3})
    assert s3["provider"] == {
        **S3,
        "endpoint": "https://s3.example.com/",
        "region": "",
        "skip_region": False,
        "signatures_v2": False,
        "max_upload_parts": 10000,
    }


def test_cloud_sync_defaults_and_expanded_credentials(rpc: Raw) -> None:
    credential = rpc.ok("cloudsync.credentials.create", {"name": "b2", "provider": B2})
    task = rpc.ok("cloudsync.create", cloud_sync(credential["id"]))
    assert task == {
        "id": 1,
        "description": "",
        "path": "/mnt/tank/photos",
        "credentials": credential,
        "attributes": {"bucket": "photos", "folder": ""},
        "schedule": {"minute": "15", "hour": "2", "dom": "*", "month": "*", "dow": "*"},
        "pre_script": "",
        "post_script": "",
        "snapshot": False,
        "include": [],
        "exclude": [],
        "args": "",
        "enabled": True,
        "bwlimit": [],
        "transfers": None,
        "direction": "PUSH",
        "transfer_mode": "SYNC",
        "encryption": False,
        "filename_encryption": False,
        "encryption_password": "",
        "encryption_salt": "",
        "create_empty_src_dirs": False,
        "follow_symlinks": False,
        "job": None,
        "locked": False,
    }


# --- validation ------------------------------------------------------------------------------------------------------


def test_snapshot_task_validation_messages(rpc: Raw) -> None:
    assert rpc.extra("pool.snapshottask.create", {"recursive": "yes", "foo": 1}) == [
        ["data.dataset", "Field required", 22],
        ["data.recursive", "Input should be a valid boolean", 22],
        ["data.foo", "Extra inputs are not permitted", 22],
    ]
    assert rpc.extra(
        "pool.snapshottask.create",
        {"dataset": "tank", "naming_schema": "snap/%Y-%m-%d %H:%M", "lifetime_unit": "DECADE"},
    ) == [
        ["data.lifetime_unit", "Input should be 'HOUR', 'DAY', 'WEEK', 'MONTH' or 'YEAR'", 22],
        ["data.naming_schema", "Value error, / is not an allowed character in ZFS snapshot name", 22],
    ]
    assert rpc.extra("pool.snapshottask.create", {"dataset": "tank", "schedule": {"hour": "25", "end": "7pm"}}) == [
        ["data.schedule.end", 'Value error, Time should be in 24 hour format like "18:00"', 22],
    ]
    [[path, message, _]] = rpc.extra("pool.snapshottask.create", {"dataset": "tank", "schedule": {"hour": "25"}})
    assert (path, message.split(" - ")[0]) == ("data.schedule", "Value error, Please ensure fields match cron syntax")


def test_snapshot_task_service_checks(rpc: Raw) -> None:
    assert rpc.extra("pool.snapshottask.create", {"dataset": "tank/nope", "exclude": ["tank/other"]}) == [
        ["periodic_snapshot_create.dataset", "Dataset not found", 22],
        [
            "periodic_snapshot_create.exclude",
            "Excluding datasets is not necessary for non-recursive periodic snapshot tasks",
            22,
        ],
        [
            "periodic_snapshot_create.exclude.0",
            "Excluded dataset should be a child or other descendant of the selected dataset",
            22,
        ],
    ]
    rpc.ok(
        "pool.snapshottask.create", {"dataset": "tank/backups", "recursive": True, "exclude": ["tank/backups/postgres"]}
    )
    assert rpc.extra("pool.snapshottask.update", 1, {"dataset": "tank/gone"}) == [
        ["periodic_snapshot_update.dataset", "Dataset not found", 22],
        [
            "periodic_snapshot_update.exclude.0",
            "Excluded dataset should be a child or other descendant of the selected dataset",
            22,
        ],
    ]


def test_credential_validation_messages(rpc: Raw) -> None:
    assert rpc.extra("cloudsync.credentials.create", {"name": "x", "provider": {"type": "B2", "account": "a"}}) == [
        ["cloud_sync_credentials_create.provider.B2.key", "Field required", 22]
    ]
    [[path, message, _]] = rpc.extra("cloudsync.credentials.create", {"name": "x", "provider": {"type": "DROPBOXX"}})
    assert path == "cloud_sync_credentials_create.provider"
    assert message.startswith("Input tag 'DROPBOXX' found using 'type' does not match any of the expected tags")
    assert rpc.extra("cloudsync.credentials.create", {"name": "x", "provider": {"account": "a"}}) == [
        ["cloud_sync_credentials_create.provider.type", "Field required", 22]
    ]
    assert rpc.extra(
        "cloudsync.credentials.create", {"name": "x", "provider": {**S3, "endpoint": "s3.example.com"}}
    ) == [
        [
            "cloud_sync_credentials_create.provider.S3.endpoint",
            "Input should be '' or Input should be a valid URL, relative URL without a base",
            22,
        ]
    ]
    rpc.ok("cloudsync.credentials.create", {"name": "b2", "provider": B2})
    assert rpc.extra("cloudsync.credentials.create", {"name": "b2", "provider": B2}) == [
        ["cloud_sync_credentials_create.name", "Object with this name already exists", 22]
    ]


def test_cloud_sync_legacy_validation_messages(rpc: Raw) -> None:
    assert rpc.extra("cloudsync.create", {"path": "/mnt/tank/photos", "direction": "SIDEWAYS", "foo": 1}) == [
        ["cloud_sync_create.foo", "Field was not expected", 22],
        ["cloud_sync_create.credentials", "attribute required", 22],
        ["cloud_sync_create.attributes", "attribute required", 22],
        ["cloud_sync_create.schedule", "attribute required", 22],
        ["cloud_sync_create.direction", "Invalid choice: SIDEWAYS", 22],
        ["cloud_sync_create.transfer_mode", "attribute required", 22],
    ]
    assert rpc.extra("cloudsync.create", cloud_sync(9)) == [
        ["cloud_sync_create.credentials", "Invalid credentials", 22]
    ]
    credential = rpc.ok("cloudsync.credentials.create", {"name": "b2", "provider": B2})["id"]
    assert rpc.extra("cloudsync.create", cloud_sync(credential, attributes={"folder": "x"}, encryption=True)) == [
        ["cloud_sync_create.encryption_password", "This field is required when encryption is enabled", 22],
        ["cloud_sync_create.attributes.bucket", "attribute required", 22],
    ]
    assert rpc.extra(
        "cloudsync.create", cloud_sync(credential, path="/srv/photos", snapshot=True, direction="PULL")
    ) == [
        ["cloud_sync_create.path", "The path must reside within a pool mount point", 22],
        ["cloud_sync_create.snapshot", "This option can only be enabled for PUSH tasks", 22],
    ]
    [[path, message, _]] = rpc.extra("cloudsync.create", cloud_sync(credential, schedule={"minute": "75"}))
    assert (path, message.split(" - ")[0]) == ("cloud_sync_create.schedule", "Please ensure fields match cron syntax")
    task = rpc.ok("cloudsync.create", cloud_sync(credential))
    assert rpc.extra("cloudsync.update", task["id"], {"bogus": True, "transfers": 0}) == [
        ["cloud_sync_update.bogus", "Field was not expected", 22],
        ["cloud_sync_update.transfers", "Should be greater than or equal to 1", 22],
    ]


# --- error shapes, state, queries ------------------------------------------------------------------------------------


def test_error_shapes(sim: TrueNASSimulator) -> None:
    raw = Raw(sim.url)
    unauthenticated = raw.send("pool.snapshottask.query")
    assert unauthenticated["error"]["code"] == -32001
    assert unauthenticated["error"]["message"] == "Method call error"
    assert {k: unauthenticated["error"]["data"][k] for k in ("error", "errname", "reason")} == {
        "error": 207,
        "errname": "ENOTAUTHENTICATED",
        "reason": "[ENOTAUTHENTICATED] Not authenticated",
    }
    assert raw.send("auth.login_with_api_key", "1-wrong") == {"jsonrpc": "2.0", "id": 2, "result": False}
    assert raw.ok("auth.login_with_api_key", sim.api_key) is True
    invalid = raw.send("pool.snapshottask.create", {"dataset": "tank/x"})["error"]
    assert (invalid["code"], invalid["message"], invalid["data"]["error"], invalid["data"]["errname"]) == (
        -32602,
        "Invalid params",
        22,
        "EINVAL",
    )
    assert invalid["data"]["reason"] == "[EINVAL] periodic_snapshot_create.dataset: Dataset not found\n"
    assert raw.send("no.such.method")["error"] == {"code": -32601, "message": "Method does not exist"}
    raw.ws.send(json.dumps({"jsonrpc": "1.0", "id": 9, "method": "x"}))
    assert json.loads(raw.ws.recv(timeout=5))["error"]["code"] == -32600
    too_many = raw.send("cloudsync.credentials.delete", 1, 2)["error"]
    assert (too_many["code"], too_many["data"]["reason"]) == (
        -32001,
        "[EINVAL] Too many arguments (expected 1, found 2)",
    )
    raw.ws.close()


def test_not_found_and_delete_semantics(rpc: Raw) -> None:
    assert rpc.extra("pool.snapshottask.update", 7, {}) == [[None, "PeriodicSnapshotTask 7 does not exist", 2]]
    assert rpc.extra("cloudsync.credentials.update", 7, {"name": "x"}) == [[None, "Credentials 7 does not exist", 2]]
    assert rpc.extra("cloudsync.delete", 7) == [[None, "CloudSync 7 does not exist", 2]]
    assert rpc.ok("pool.snapshottask.delete", 7) is True
    assert rpc.ok("cloudsync.credentials.delete", 7) is True


def test_update_applies_only_given_fields_and_fills_the_schedule(rpc: Raw) -> None:
    rpc.ok(
        "pool.snapshottask.create",
        {
            "dataset": "tank/photos",
            "lifetime_value": 14,
            "lifetime_unit": "DAY",
            "schedule": {"minute": "5", "hour": "*/4", "begin": "8:00"},
        },
    )
    updated = rpc.ok("pool.snapshottask.update", 1, {"schedule": {"hour": "3"}, "fixate_removal_date": True})
    assert (updated["lifetime_value"], updated["lifetime_unit"]) == (14, "DAY")
    assert updated["schedule"] == {
        "minute": "00",
        "hour": "3",
        "dom": "*",
        "month": "*",
        "dow": "*",
        "begin": "00:00",
        "end": "23:59",
    }
    assert "fixate_removal_date" not in updated
    assert rpc.ok("pool.snapshottask.query", [["id", "=", 1]])[0]["schedule"]["hour"] == "3"


def test_state_persists_across_connections_and_queries_filter(sim: TrueNASSimulator, rpc: Raw) -> None:
    credential = rpc.ok("cloudsync.credentials.create", {"name": "b2", "provider": B2})["id"]
    rpc.ok("cloudsync.create", cloud_sync(credential, description="photos"))
    rpc.ok("cloudsync.create", cloud_sync(credential, description="vault", path="/mnt/tank/vaultwarden"))
    other = Raw(sim.url)
    other.ok("auth.login_with_api_key", sim.api_key)
    assert [t["description"] for t in other.ok("cloudsync.query", [["credentials.id", "=", credential]])] == [
        "photos",
        "vault",
    ]
    assert other.ok("cloudsync.query", [["id", "=", 2]], {"select": ["id", "path"]}) == [
        {"id": 2, "path": "/mnt/tank/vaultwarden"}
    ]
    assert other.ok("cloudsync.query", [], {"count": True}) == 2
    assert other.ok("cloudsync.query", [["description", "^", "va"]], {"get": True})["id"] == 2
    assert other.ok("cloudsync.query", [], {"order_by": ["-id"], "limit": 1})[0]["id"] == 2
    assert other.extra("cloudsync.query", [["id", "==", 1]]) == [["filters", "Value error, Invalid operation: ==", 22]]
    assert other.extra("cloudsync.query", [], {"colour": "red"}) == [
        ["options.colour", "Extra inputs are not permitted", 22]
    ]
    other.ws.close()


def test_ids_are_reused_like_sqlite_rowids(rpc: Raw) -> None:
    assert [rpc.ok("pool.snapshottask.create", {"dataset": "tank"})["id"] for _ in range(2)] == [1, 2]
    rpc.ok("pool.snapshottask.delete", 2)
    assert rpc.ok("pool.snapshottask.create", {"dataset": "tank"})["id"] == 2


def test_filesystem_choices(rpc: Raw) -> None:
    assert rpc.ok("pool.filesystem_choices", ["VOLUME"]) == ["tank/vm-disk"]
    assert "tank/photos" in rpc.ok("pool.filesystem_choices")


def test_secrets_are_exposed_to_full_admin_and_redacted_otherwise(sim: TrueNASSimulator, rpc: Raw) -> None:
    credential = rpc.ok("cloudsync.credentials.create", {"name": "s3", "provider": S3})["id"]
    rpc.ok("cloudsync.create", cloud_sync(credential, encryption=True, encryption_password="pw", encryption_salt="s"))
    assert rpc.ok("cloudsync.query")[0]["encryption_password"] == "pw"
    sim.redact_secrets = True
    task = rpc.ok("cloudsync.query")[0]
    assert (task["encryption_password"], task["encryption_salt"]) == (SECRET_VALUE, SECRET_VALUE)
    assert task["credentials"]["provider"] == {
        "type": "S3",
        "access_key_id": SECRET_VALUE,
        "secret_access_key": SECRET_VALUE,
        "endpoint": "https://s3.example.com/",
        "region": SECRET_VALUE,
        "skip_region": SECRET_VALUE,
        "signatures_v2": SECRET_VALUE,
        "max_upload_parts": SECRET_VALUE,
    }
    assert sim.rows(CLOUD_SYNC)[1]["encryption_password"] == "pw"


def test_out_of_band_changes(sim: TrueNASSimulator, rpc: Raw) -> None:
    rpc.ok("pool.snapshottask.create", {"dataset": "tank/photos"})
    sim.edit(SNAPSHOT_TASKS, 1, lifetime_value=9, enabled=False)
    assert {k: rpc.ok("pool.snapshottask.query")[0][k] for k in ("lifetime_value", "enabled")} == {
        "lifetime_value": 9,
        "enabled": False,
    }
    sim.remove(SNAPSHOT_TASKS, 1)
    assert rpc.ok("pool.snapshottask.query") == []
    assert sim.add(CREDENTIALS, {"name": "made in the UI", "provider": B2}) == 1
    sim.datasets["tank/new"] = "FILESYSTEM"
    assert rpc.ok("pool.snapshottask.create", {"dataset": "tank/new"})["dataset"] == "tank/new"


# --- faults ----------------------------------------------------------------------------------------------------------


def test_drop_before_the_call_is_applied(sim: TrueNASSimulator, rpc: Raw) -> None:
    sim.drop_connection(method="pool.snapshottask.create")
    with pytest.raises(ConnectionClosed):
        rpc.send("pool.snapshottask.create", {"dataset": "tank/photos"})
    assert sim.rows(SNAPSHOT_TASKS) == {}


def test_drop_after_the_call_is_applied(sim: TrueNASSimulator, rpc: Raw) -> None:
    sim.drop_connection(method="pool.snapshottask.create", applied=True)
    with pytest.raises(ConnectionClosed):
        rpc.send("pool.snapshottask.create", {"dataset": "tank/photos"})
    assert [row["dataset"] for row in sim.rows(SNAPSHOT_TASKS).values()] == ["tank/photos"]


def test_drop_skips_and_counts(sim: TrueNASSimulator, rpc: Raw) -> None:
    sim.drop_connection(times=1, method="pool.snapshottask.query", skip=1)
    assert rpc.ok("pool.snapshottask.query") == []
    with pytest.raises(ConnectionClosed):
        rpc.send("pool.snapshottask.query")
    again = Raw(sim.url)
    assert again.ok("auth.login_with_api_key", sim.api_key) is True
    assert again.ok("pool.snapshottask.query") == []
    again.ws.close()


def test_unknown_paths_answer_404(sim: TrueNASSimulator) -> None:
    for path in ("/websocket", "/api/v2.0", "/api/v24.10.2"):
        with pytest.raises(InvalidStatus) as caught:
            connect(sim.url.replace("/api/current", path), proxy=None, legacy=True)
        assert caught.value.response.status_code == 404
