"""providers.wire: every wire form of a value not known yet, secret envelopes and wire numbers.

The unknown forms here come from the host's own deserializer fed protobuf values (what a preview sends); the
captured real forms, per provider, are replayed in tests/providers/test_wire_forms.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic import (
    CheckResult,
    Config,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

from providers import wire


def from_wire(value: Any) -> Any:
    """`value` sent through a protobuf Struct and read back the way the dynamic-provider host reads check/diff."""
    struct = struct_pb2.Struct()
    struct.update({"v": value})
    return rpc.deserialize_properties(struct, keep_unknowns=True)["v"]


def envelope(value: Any) -> dict[str, Any]:
    return {wire.SECRET_SIG_KEY: wire.SECRET_SIG, "value": value}


def test_constants_are_the_sdks() -> None:
    assert wire.UNKNOWN == rpc.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert (rpc._special_sig_key, rpc._special_secret_sig) == (wire.SECRET_SIG_KEY, wire.SECRET_SIG)


UNKNOWN_FORMS = {
    "host Unknown": from_wire(rpc.UNKNOWN),
    "sentinel string": rpc.UNKNOWN,
    "secret Unknown": from_wire(envelope(rpc.UNKNOWN)),
    "secret sentinel": envelope(rpc.UNKNOWN),
    "secret of a secret": envelope(envelope(Unknown())),
    "secret None": envelope(None),
}


@pytest.mark.parametrize("dry_run", [False, True], ids=["up", "preview"])
def test_the_host_turns_the_sentinel_into_unknown_objects_and_a_secret_one_by_the_run_kind(
        dry_run: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a secret envelope the SDK drops `keep_unknowns` and asks the process-wide run settings instead: a
    secret unknown reads as a secret None in an `up` and as a secret Unknown in a preview. Pinned here, because
    those settings are whatever the previous test in the same process left behind."""
    monkeypatch.setattr(rpc.settings, "is_dry_run", lambda: dry_run)
    assert isinstance(from_wire(rpc.UNKNOWN), Unknown)
    assert isinstance(from_wire({"a": [rpc.UNKNOWN]})["a"][0], Unknown)
    inner = from_wire(envelope(rpc.UNKNOWN))["value"]
    assert isinstance(inner, Unknown) if dry_run else inner is None
    assert wire.is_unknown(from_wire(envelope(rpc.UNKNOWN)))


@pytest.mark.parametrize("value", UNKNOWN_FORMS.values(), ids=UNKNOWN_FORMS.keys())
def test_every_unknown_form_is_unknown_alone_and_nested(value: Any) -> None:
    assert wire.is_unknown(value) and wire.has_unknowns(value) and not wire.known(value)
    nested = [{"a": value}, [1, value], {"a": [{"b": value}]}, envelope({"a": value}), from_wire({"a": [rpc.UNKNOWN]})]
    for container in nested:
        assert wire.has_unknowns(container), container
        assert not wire.is_unknown(container), container
    assert wire.differs("old", value)
    assert wire.differs({"a": "old"}, {"a": value})


KNOWN = ["", "x", 0, 0.5, 14.0, False, None, [], {}, {"a": [1, "b"]}, envelope("s3cr3t"), from_wire(envelope({"k": 1}))]


@pytest.mark.parametrize("value", KNOWN, ids=repr)
def test_known_values_are_known(value: Any) -> None:
    assert wire.known(value) and not wire.is_unknown(value) and not wire.has_unknowns(value)


def test_reveal_opens_envelopes_at_any_depth() -> None:
    received = from_wire({"a": envelope("p"), "b": [envelope(1)], "c": envelope({"d": envelope("e")})})
    assert wire.reveal(received) == {"a": "p", "b": [1.0], "c": {"d": "e"}}
    assert isinstance(wire.reveal(envelope(Unknown())), Unknown)


def test_wire_numbers_become_whole() -> None:
    assert from_wire(14) == 14.0 and isinstance(from_wire(14), float)
    assert wire.whole(14.0) == 14 and isinstance(wire.whole(14.0), int)
    assert wire.whole(0.5) == 0.5 and wire.whole(True) is True and wire.whole("14") == "14"
    received = from_wire({"a": [14, {"b": 7}], "s": envelope(3)})
    assert wire.is_secret_envelope(received), "the host marks a map holding a secret as secret as a whole"
    nested = wire.whole_numbers(received)
    assert wire.is_secret_envelope(nested)
    plain = wire.reveal(nested)
    assert plain == {"a": [14, {"b": 7}], "s": 3}
    assert all(isinstance(v, int) for v in (plain["a"][0], plain["a"][1]["b"], plain["s"]))
    assert [wire.as_int(v) for v in (14.0, 14, 0.5, True, "1", None)] == [14, 14, None, None, None, None]
    assert [wire.is_int(v) for v in (1, 1.0, True)] == [True, False, False]


def test_differs_ignores_envelopes_and_doubles_but_not_values() -> None:
    assert not wire.differs(14, from_wire(14))
    assert not wire.differs({"n": 7, "p": "x"}, from_wire({"n": 7, "p": envelope("x")}))
    assert wire.differs({"p": "x"}, {"p": envelope("y")})
    assert wire.differs(None, "x")


def test_keep_secrets_wraps_again_what_arrived_secret() -> None:
    received = {"password": envelope("p"), "name": "n", "gone": envelope("g")}
    checked = {"password": "p", "name": "n", "extra": 1}
    assert wire.keep_secrets(received, checked) == {"password": envelope("p"), "name": "n", "extra": 1}
    assert wire.keep_secrets(received, {"password": envelope("p")}) == {"password": envelope("p")}


# Provisioning credentials as provider configuration (`wire.provisioned`): filled in for each call from the stack's
# `credentials.<entry>` or HLB_<ENTRY>_*, never handed back to the engine as an input or output.

ADMIN = {"access_key_id": "admin-id", "secret_access_key": "admin-secret"}


@wire.provisioned("credentials", ("access_key_id", "secret_access_key"))
class Recorder(ResourceProvider):
    """A provider that records the credentials each call saw and echoes its props as outputs."""

    seen: list[tuple[str, dict | None]] = []

    def check(self, _olds: dict, news: dict) -> CheckResult:
        self.seen.append(("check", news.get("credentials")))
        return CheckResult(dict(news), [])

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        return DiffResult(changes=any(wire.differs(olds.get(k), news.get(k)) for k in ("name", "credentials")))

    def create(self, props: dict) -> CreateResult:
        self.seen.append(("create", props.get("credentials")))
        return CreateResult("id-1", dict(props))

    def read(self, id_: str, props: dict) -> ReadResult:
        self.seen.append(("read", props.get("credentials")))
        return ReadResult(id_, dict(props), {"name": props.get("name"), "credentials": props.get("credentials")})

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        self.seen.append(("update", news.get("credentials")))
        return UpdateResult(dict(news))

    def delete(self, _id: str, props: dict) -> None:
        self.seen.append(("delete", props.get("credentials")))


def configured(credentials: dict | None) -> Recorder:
    provider = Recorder()
    Recorder.seen = []
    raw = {} if credentials is None else {"homelab-backups:credentials": json.dumps(credentials)}
    provider.configure(ConfigureRequest(config=Config(raw_config=raw, project_name="homelab-backups")))
    return provider


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for name in ("HLB_NAS_S3_ACCESS_KEY_ID", "HLB_NAS_S3_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_every_call_gets_the_configured_key_and_hands_none_back():
    provider = configured({"nas-s3": ADMIN})
    news = {"name": "a", "credentials_entry": "nas-s3"}
    checked = provider.check({}, news)
    created = provider.create(checked.inputs)
    read = provider.read("id-1", created.outs)
    updated = provider.update("id-1", created.outs, {**news, "name": "b"})
    provider.delete("id-1", updated.outs)
    assert [call for call, _ in Recorder.seen] == ["check", "create", "read", "update", "delete"]
    assert all(creds == ADMIN for _, creds in Recorder.seen), Recorder.seen
    for handed_back in (checked.inputs, created.outs, read.outs, read.inputs, updated.outs):
        assert "credentials" not in handed_back, handed_back
        assert handed_back["credentials_entry"] == "nas-s3", handed_back


def test_another_key_is_no_change():
    first = configured({"nas-s3": ADMIN})
    state = first.create(first.check({}, {"name": "a", "credentials_entry": "nas-s3"}).inputs).outs
    other = configured({"nas-s3": {"access_key_id": "ro-id", "secret_access_key": "ro-secret"}})
    news = other.check(state, {"name": "a", "credentials_entry": "nas-s3"}).inputs
    assert other.diff("id-1", state, news).changes is False


def test_environment_fills_what_config_lacks(monkeypatch):
    monkeypatch.setenv("HLB_NAS_S3_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("HLB_NAS_S3_SECRET_ACCESS_KEY", "env-secret")
    provider = configured(None)
    provider.create({"name": "a", "credentials_entry": "nas-s3"})
    assert Recorder.seen == [("create", {"access_key_id": "env-id", "secret_access_key": "env-secret"})]


def test_missing_key_is_a_check_failure_naming_config_and_environment():
    provider = configured({"other": ADMIN})
    result = provider.check({}, {"name": "a", "credentials_entry": "nas-s3"})
    assert [(f.property, f.reason) for f in result.failures] == [(
        "credentials_entry",
        "the provider has no credentials.nas-s3 ['access_key_id', 'secret_access_key']: run `pulumi config set "
        "--secret --path 'credentials.nas-s3.access_key_id' ...`, `pulumi config set --secret --path "
        "'credentials.nas-s3.secret_access_key' ...`, or export HLB_NAS_S3_ACCESS_KEY_ID, "
        "HLB_NAS_S3_SECRET_ACCESS_KEY")]
    with pytest.raises(wire.ProvisioningError, match="credentials.nas-s3"):
        provider.create({"name": "a", "credentials_entry": "nas-s3"})


def test_an_explicit_key_input_is_used_and_kept_as_before():
    provider = configured({"nas-s3": ADMIN})
    explicit = {"access_key_id": "x", "secret_access_key": "y"}
    created = provider.create({"name": "a", "credentials": explicit})
    assert Recorder.seen == [("create", explicit)]
    assert created.outs["credentials"] == explicit


def test_secret_config_values_are_read_through_envelopes():
    sealed = {"nas-s3": {k: {wire.SECRET_SIG_KEY: wire.SECRET_SIG, "value": v} for k, v in ADMIN.items()}}
    provider = configured(sealed)
    provider.create({"name": "a", "credentials_entry": "nas-s3"})
    assert Recorder.seen == [("create", ADMIN)]


def test_a_read_without_the_server_inputs_names_each_missing_one():
    with pytest.raises(ValueError, match=r"^to read MinIO user 'u' pass endpoint, credentials as well$"):
        wire.require_to_read({"bucket": "b", "endpoint": ""}, ("endpoint", "bucket", "credentials"),
                             "MinIO user 'u'", ValueError)
    wire.require_to_read({"endpoint": "https://s3.lan"}, ("endpoint",), "MinIO user 'u'", ValueError)


def test_read_found_gives_the_engine_gone_or_the_inputs_out_of_the_outputs():
    gone = wire.read_found("u", None, ("bucket",))
    assert (gone.id, gone.outs) == ("", {})
    found = wire.read_found("u", {"bucket": "b", "status": "enabled"}, ("bucket",))
    assert (found.id, found.outs, found.inputs) == ("u", {"bucket": "b", "status": "enabled"}, {"bucket": "b"})
