"""The JSON-RPC client against the loopback TrueNAS simulator: login, error mapping, transport failures, TLS."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.truenas.client import (
    ConnectionSettings,
    TrueNASAuthError,
    TrueNASCallError,
    TrueNASClient,
    TrueNASTimeout,
    TrueNASTLSError,
    TrueNASUnreachable,
    TrueNASValidationError,
    connection_problems,
)
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator() as simulator:
        yield simulator


def settings(sim: TrueNASSimulator, **overrides: object) -> ConnectionSettings:
    return ConnectionSettings.from_dict(sim.connection(**overrides))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_login_and_call(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api:
        assert api.call("pool.filesystem_choices", ["FILESYSTEM"])[:2] == ["tank", "tank/backups"]
        assert api.call("pool.snapshottask.query") == []
    assert sim.calls == ["auth.login_with_api_key", "pool.filesystem_choices", "pool.snapshottask.query"]


def test_pinned_api_version_path(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim, url=sim.url_for("v25.04.0"))) as api:
        assert api.call("pool.snapshottask.query", [["id", "=", 1]]) == []


def test_wrong_api_key_is_an_auth_error_without_the_key(sim: TrueNASSimulator) -> None:
    with pytest.raises(TrueNASAuthError) as caught:
        TrueNASClient(settings(sim, api_key="2-not-the-key")).open()
    assert "rejected the API key" in str(caught.value)
    assert "not-the-key" not in str(caught.value)


def test_rejected_login_knob(sim: TrueNASSimulator) -> None:
    sim.reject_auth = True
    with pytest.raises(TrueNASAuthError), TrueNASClient(settings(sim)):
        pass


def test_expired_session_is_an_auth_error(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api:
        sim.expire_sessions()
        with pytest.raises(TrueNASAuthError, match="not authenticated"):
            api.call("pool.snapshottask.query")


def test_validation_error_carries_field_paths(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api, pytest.raises(TrueNASValidationError) as caught:
        api.call("pool.snapshottask.create", {"dataset": "tank/photos", "naming_schema": "daily-%Y", "foo": 1})
    assert caught.value.method == "pool.snapshottask.create"
    assert caught.value.errors == [
        ("data.naming_schema", "Value error, %m must be present in snapshot naming schema"),
        ("data.foo", "Extra inputs are not permitted"),
    ]
    assert not caught.value.not_found


def test_service_level_validation_error(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api, pytest.raises(TrueNASValidationError) as caught:
        api.call("pool.snapshottask.create", {"dataset": "tank/missing"})
    assert caught.value.errors == [("periodic_snapshot_create.dataset", "Dataset not found")]


def test_instance_not_found_is_flagged(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api, pytest.raises(TrueNASValidationError) as caught:
        api.call("pool.snapshottask.update", 41, {"enabled": False})
    assert caught.value.errors == [("", "PeriodicSnapshotTask 41 does not exist")]
    assert caught.value.not_found


def test_call_error(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api:
        credential = api.call(
            "cloudsync.credentials.create", {"name": "b2", "provider": {"type": "B2", "account": "k", "key": "s"}}
        )
        api.call(
            "cloudsync.create",
            {
                "path": "/mnt/tank/photos",
                "credentials": credential["id"],
                "attributes": {"bucket": "b", "folder": ""},
                "schedule": {},
                "direction": "PUSH",
                "transfer_mode": "SYNC",
                "description": "photos",
            },
        )
        with pytest.raises(TrueNASCallError) as caught:
            api.call("cloudsync.credentials.delete", credential["id"])
    assert (caught.value.code, caught.value.errno, caught.value.errname) == (-32001, 14, "EFAULT")
    assert caught.value.reason == "This credential is used by cloud sync task photos"


def test_unknown_method_is_a_call_error(sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(sim)) as api, pytest.raises(TrueNASCallError) as caught:
        api.call("pool.snapshottask.frobnicate")
    assert caught.value.code == -32601
    assert "does not offer pool.snapshottask.frobnicate" in str(caught.value)


def test_connection_refused_is_unreachable() -> None:
    dead = ConnectionSettings(url=f"ws://127.0.0.1:{free_port()}/api/current", api_key="1-x", connect_timeout=2)
    with pytest.raises(TrueNASUnreachable, match="cannot connect to 127.0.0.1"):
        TrueNASClient(dead).open()


def test_server_without_the_jsonrpc_api_is_unreachable(sim: TrueNASSimulator) -> None:
    old = ConnectionSettings(url=sim.url_for("v24.10.0"), api_key=sim.api_key)
    with pytest.raises(TrueNASUnreachable, match="HTTP 404.*25.04 or later"):
        TrueNASClient(old).open()


def test_dropped_connection_is_unreachable(sim: TrueNASSimulator) -> None:
    sim.drop_connection(method="pool.snapshottask.query")
    with TrueNASClient(settings(sim)) as api, pytest.raises(TrueNASUnreachable, match="dropped during"):
        api.call("pool.snapshottask.query")


def test_slow_answer_times_out(sim: TrueNASSimulator) -> None:
    sim.set_delay(2.0, "pool.snapshottask.query")
    with TrueNASClient(settings(sim, call_timeout=0.2)) as api:
        with pytest.raises(TrueNASTimeout, match="within 0.2s"):
            api.call("pool.snapshottask.query")
        with pytest.raises(TrueNASUnreachable, match="no open connection"):
            api.call("pool.snapshottask.query")


def test_silent_server_times_out_on_connect() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        silent = ConnectionSettings(url=f"ws://127.0.0.1:{port}/api/current", api_key="1-x", connect_timeout=0.3)
        with pytest.raises(TrueNASTimeout, match="within 0.3s"):
            TrueNASClient(silent).open()


def test_connection_problems_name_each_key_and_never_echo_the_key() -> None:
    problems = connection_problems(
        {"url": "ws://nas.lan/api/current", "api_key": "", "verify_tls": "yes", "call_timeout": 0, "token": "x"}
    )
    assert [key for key, _ in problems] == [
        "connection.token",
        "connection.url",
        "connection.api_key",
        "connection.verify_tls",
        "connection.call_timeout",
    ]
    assert "TrueNAS revokes API keys sent without TLS" in problems[1][1]
    assert connection_problems({"url": "https://nas.lan/api/v2.0", "api_key": "1-s3cret"}) == [
        ("connection.url", "must be wss://HOST/api/current (the REST /api/v2.0 is not supported)")
    ]
    assert "/api/v25.04.0" in connection_problems({"url": "wss://nas.lan/websocket", "api_key": "1-k"})[0][1]
    assert connection_problems({"url": "wss://nas.lan/api/v25.04.0", "api_key": "1-s3cret"}) == []
    assert "s3cret" not in repr(
        ConnectionSettings.from_dict({"url": "wss://nas.lan/api/current", "api_key": "1-s3cret"})
    )


# --- TLS ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A private CA and a certificate for 127.0.0.1 signed by it, as a NAS with a homelab CA would have."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_sim(pki: dict[str, Path]) -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(tls=server_context(pki)) as simulator:
        yield simulator


def test_tls_is_verified_by_default(tls_sim: TrueNASSimulator) -> None:
    assert tls_sim.url.startswith("wss://")
    with pytest.raises(TrueNASTLSError, match="connection.ca_file"):
        TrueNASClient(settings(tls_sim)).open()


def test_tls_with_the_private_ca(tls_sim: TrueNASSimulator, pki: dict[str, Path]) -> None:
    with TrueNASClient(settings(tls_sim, ca_file=str(pki["ca"]))) as api:
        assert api.call("pool.snapshottask.query") == []
    with TrueNASClient(settings(tls_sim, ca_pem=pki["ca"].read_text())) as api:
        assert api.call("cloudsync.query") == []


def test_tls_verification_can_be_switched_off(tls_sim: TrueNASSimulator) -> None:
    with TrueNASClient(settings(tls_sim, verify_tls=False)) as api:
        assert api.call("cloudsync.credentials.query") == []


def test_unreadable_ca_bundle_is_a_tls_error(tls_sim: TrueNASSimulator, tmp_path: Path) -> None:
    with pytest.raises(TrueNASTLSError, match="cannot load the CA bundle"):
        TrueNASClient(settings(tls_sim, ca_file=str(tmp_path / "missing.pem"))).open()
