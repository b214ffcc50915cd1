"""1Password items through the official Connect SDK, against the loopback stand-in of the Connect API.

The provider keeps the whole dynamic-provider contract (check with unknowns, diff, create that never takes over,
read with drift, update in place, delete that tolerates a missing item), and what it writes is what an
ExternalSecret of the ESO onepassword provider reads (item title = remoteRef.key, field label = property).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from onepasswordconnectsdk.client import Client
from pulumi.output import Unknown
from pulumi.runtime import rpc

from inventory.models import Dataset
from manifests import volsync
from manifests.escrow import remote_key_prefix
from manifests.secrets import external_secret
from plan import build_plan
from providers import wire
from providers.onepassword import OnePasswordError, OnePasswordItemProvider, check_inputs
from tests.eso_reads import NotResolved, onepassword_reader, resolve
from tests.onepassword_standin import Connect, ServerThread

TOKEN = "connect-token-never-shown_0123456789"
READ_ONLY = "connect-token-read-only_0123456789"
VAULT = "homelab"


@pytest.fixture(scope="module")
def connect() -> Iterator[tuple[ServerThread, str]]:
    state = Connect()
    vault_id = state.add_vault(VAULT)
    state.add_vault("other")
    state.grant(TOKEN, vault_id)
    state.grant(READ_ONLY, vault_id, "r")
    server = ServerThread(state).start()
    try:
        yield server, vault_id
    finally:
        server.stop()


def props(server: ServerThread, title: str, **extra: Any) -> dict[str, Any]:
    return {"connect_host": server.url, "vault": VAULT, "title": title, "token": TOKEN, "ca_file": None,
            "fields": {"repository_password": "p" * 40, "access_key_id": "AKIA-writer"}, **extra}


def sdk(server: ServerThread) -> Client:
    return Client(server.url, TOKEN)


def test_check_names_each_bad_property():
    failures = check_inputs({"connect_host": "connect.internal", "vault": "", "title": "x", "token": "",
                             "fields": {"bad label!": "v", "empty": ""}})
    assert [(f.property, f.reason) for f in failures] == [
        ("connect_host", "must be the Connect server's http(s):// URL, got 'connect.internal'"),
        ("vault", "must be a non-empty string, got ''"),
        ("token", "must be the Connect token: run pulumi config set --secret --path 'credentials.onepassword.token' "
                  "<token>"),
        ("fields", "labels ['bad label!'] must be 1-100 letters, digits, '_', '.' or '-'"),
        ("fields", "['empty'] have no value; every escrowed field needs one"),
    ]


@pytest.mark.parametrize("unknown", [Unknown(), rpc.UNKNOWN, {wire.SECRET_SIG_KEY: wire.SECRET_SIG, "value": None}])
def test_check_and_diff_accept_unknowns_during_preview(unknown):
    provider = OnePasswordItemProvider()
    news = {"connect_host": "https://connect.internal", "vault": VAULT, "title": "homelab-backups/x",
            "token": unknown, "fields": {"repository_password": unknown}}
    assert provider.check({}, news).failures == []
    assert provider.check({}, {**news, "fields": unknown}).failures == []
    olds = {**news, "token": TOKEN, "fields": {"repository_password": "old"}, "item_id": "a" * 26}
    result = provider.diff("a" * 26, olds, news)
    assert result.changes and result.replaces == []


def test_diff_replaces_on_another_vault_or_server_and_updates_fields_in_place():
    provider = OnePasswordItemProvider()
    olds = {"connect_host": "https://c", "vault": VAULT, "title": "t", "token": TOKEN, "fields": {"a": "1"},
            "ca_file": None}
    assert not provider.diff("i", olds, dict(olds)).changes
    assert provider.diff("i", olds, {**olds, "vault": "other"}).replaces == ["vault"]
    assert provider.diff("i", olds, {**olds, "connect_host": "https://d"}).replaces == ["connect_host"]
    rotated = provider.diff("i", olds, {**olds, "fields": {"a": "2"}})
    assert rotated.changes and rotated.replaces == []
    secret_fields = {wire.SECRET_SIG_KEY: wire.SECRET_SIG, "value": {"a": "1"}}
    assert not provider.diff("i", olds, {**olds, "fields": secret_fields}).changes


def test_lifecycle_create_read_rotate_drift_delete(connect):
    server, vault_id = connect
    provider = OnePasswordItemProvider()
    inputs = props(server, "homelab-backups/vaultwarden-b2-repo")
    created = provider.create(inputs)
    item = sdk(server).get_item_by_id(created.id, vault_id)
    assert item.title == "homelab-backups/vaultwarden-b2-repo" and item.category == "SECURE_NOTE"
    assert {f.label: f.value for f in item.fields if f.type == "CONCEALED"} == inputs["fields"]
    assert created.outs["fields"] == inputs["fields"] and created.outs["vault_id"] == vault_id

    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.inputs["fields"] == inputs["fields"]

    rotated = {**inputs, "fields": {**inputs["fields"], "access_key_id": "AKIA-rotated"}}
    updated = provider.update(created.id, created.outs, rotated)
    assert updated.outs["fields"]["access_key_id"] == "AKIA-rotated"
    assert sdk(server).get_item_by_id(created.id, vault_id).version == 2

    edited = sdk(server).get_item_by_id(created.id, vault_id)
    for f in edited.fields:
        if f.label == "access_key_id":
            f.value = "edited-by-hand"
    sdk(server).update_item(created.id, vault_id, edited)
    drift = provider.read(created.id, updated.outs)
    assert drift.inputs["fields"]["access_key_id"] == "edited-by-hand"
    assert provider.diff(created.id, drift.outs, rotated).changes, "an edit made in 1Password is drift"

    provider.delete(created.id, updated.outs)
    assert sdk(server).get_items(vault_id, 'title eq "homelab-backups/vaultwarden-b2-repo"') == []
    provider.delete(created.id, updated.outs)
    assert provider.read(created.id, updated.outs).id == ""


def test_create_never_takes_over_an_item_of_the_same_title(connect):
    server, vault_id = connect
    provider = OnePasswordItemProvider()
    first = provider.create(props(server, "homelab-backups/grafana-nas-repo"))
    before = len(server.connect.items[vault_id])
    with pytest.raises(OnePasswordError) as refused:
        provider.create(props(server, "homelab-backups/grafana-nas-repo"))
    assert "already exists in vault 'homelab'" in str(refused.value) and "never overwritten" in str(refused.value)
    assert len(server.connect.items[vault_id]) == before
    provider.delete(first.id, first.outs)


def test_refused_token_says_how_to_set_it_and_never_shows_it(connect):
    server, _ = connect
    provider = OnePasswordItemProvider()
    with pytest.raises(OnePasswordError) as refused:
        provider.create(props(server, "homelab-backups/x", token="wrong-token-0123456789"))
    message = str(refused.value)
    assert "refused the token (401)" in message and "credentials.onepassword.token" in message
    assert "wrong-token" not in message
    with pytest.raises(OnePasswordError) as forbidden:
        provider.create(props(server, "homelab-backups/x", token=READ_ONLY))
    assert "(403)" in str(forbidden.value) and READ_ONLY not in str(forbidden.value)
    assert "p" * 40 not in str(forbidden.value)


def test_unreachable_server_is_named():
    provider = OnePasswordItemProvider()
    with pytest.raises(OnePasswordError) as failed:
        provider.create({"connect_host": "http://127.0.0.1:9", "vault": VAULT, "title": "t", "token": TOKEN,
                         "fields": {"a": "b"}, "ca_file": None})
    assert "cannot reach http://127.0.0.1:9" in str(failed.value) and "secret_store.connect_host" in str(failed.value)


def test_an_external_secret_reads_what_the_provider_wrote(connect, estate):
    """The rendered ExternalSecret of a real repository Secret resolves against the escrowed item."""
    from inventory import load_inventory

    server, vault_id = connect
    inventory = load_inventory(estate)
    ds: Dataset = inventory.datasets[0]
    unit = build_plan(inventory).unit(ds.name)
    copy = unit.copies[-1]
    rendered = external_secret(volsync.repository_secret(unit, copy), "onepassword", remote_key_prefix("onepassword"))
    values = {"repository_password": "r" * 48, "access_key_id": "AKIA-w", "secret_access_key": "s" * 40}
    keys = {e["remoteRef"]["key"] for e in rendered["spec"]["data"]}
    assert len(keys) == 1
    props_ = props(server, keys.pop(),
                   fields={e["remoteRef"]["property"]: values[e["remoteRef"]["property"]]
                           for e in rendered["spec"]["data"]})
    created = OnePasswordItemProvider().create(props_)
    read = onepassword_reader(sdk(server), [vault_id])
    resolved = resolve(rendered, read)
    assert resolved and set(resolved.values()) <= set(values.values())
    assert resolved["RESTIC_PASSWORD"] == values["repository_password"], resolved
    OnePasswordItemProvider().delete(created.id, created.outs)
    with pytest.raises(NotResolved):
        resolve(rendered, read)
