"""Provisioning credentials as provider configuration (providers/wire.py `provisioned`): filled in for each call from
the stack's `credentials.<entry>` or HLB_<ENTRY>_*, never handed back to the engine as an input or output."""

from __future__ import annotations

import json

import pytest
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

from providers import wire

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
