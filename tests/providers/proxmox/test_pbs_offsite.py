"""The offsite PBS objects against the PBS stand-in: the S3 endpoint with a writer's key (secret never read back),
the S3-backed datastore (a worker task, backend only at creation), the remote and, on a second PBS, the sync token
with DatastoreBackup on its datastore only; drift found by read and converged, refusals, deletes that tolerate gone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from providers import wire
from providers.proxmox.pbs_jobs import SyncJobProvider
from providers.proxmox.pbs_offsite import (
    RemoteProvider,
    S3DatastoreProvider,
    S3EndpointProvider,
    SyncTokenProvider,
)
from providers.proxmox.service import ProxmoxResourceError
from tests.providers import wire_forms
from tests.proxmox_simulator import ProxmoxSimulator
from tests.truenas_simulator.pki import server_context

KEY = {"access_key": "0051b2writerkeyid", "secret_key": "K005-writer-secret-value"}


@pytest.fixture(scope="module")
def remote_pbs(pki: dict[str, Any]) -> Iterator[ProxmoxSimulator]:
    with ProxmoxSimulator("PBS", token_id="admin@pbs!homelab-backups", token_secret="remote-admin-secret",
                          tls=server_context(pki)) as simulator:
        simulator.datastores |= {"offsite": {"path": "/mnt/datastore/offsite"}}
        yield simulator


@pytest.fixture(autouse=True)
def no_configured_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens come from the environment here; a replayed wire form elsewhere may have configured stand-in ones."""
    monkeypatch.setattr(wire, "_configured", {})


@pytest.fixture
def base(pbs_connection: dict[str, Any], tokens: None) -> dict[str, Any]:
    return {"connection": pbs_connection, "credentials_entry": "pbs", "context": "pbs-offsite"}


@pytest.fixture
def remote_base(remote_pbs: ProxmoxSimulator, pki: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("HLB_PBS_REMOTE_HETZNER_TOKEN_SECRET", remote_pbs.token_secret)
    return {"connection": {"url": remote_pbs.url, "token_id": remote_pbs.token_id, "verify_tls": True,
                           "ca_file": str(pki["ca"])}, "credentials_entry": "pbs-remote-hetzner",
            "context": "pbs-offsite"}


def _create(provider, props):
    checked = provider.check({}, props)
    assert checked.failures == [], checked.failures
    return checked.inputs, provider.create(checked.inputs)


def _endpoint(base: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**base, "job_id": "hlb-pbs-offsite", "endpoint": "s3.us-east-005.backblazeb2.com",
            "region": "us-east-005", "provider_quirks": "skip-if-none-match-header", **KEY, **extra}


def test_s3_endpoint_keeps_the_writer_key_write_only_and_converges(base, pbs):
    provider = S3EndpointProvider()
    wanted, result = _create(provider, _endpoint(base))
    stored = pbs.offsite.s3["hlb-pbs-offsite"]
    assert (stored["access-key"], stored["secret-key"], stored["provider-quirks"]) == (
        KEY["access_key"], KEY["secret_key"], "skip-if-none-match-header")
    assert "secret-key" not in str([r for r in pbs.requests if r[0] == "GET"])
    pbs.edit("s3", "hlb-pbs-offsite", region="eu-central-003", secret_key="typed-in-the-ui")
    read = provider.read(result.id, result.outs)
    assert read.inputs["region"] == "eu-central-003"
    assert read.inputs["secret_key"] == KEY["secret_key"]  # PBS never says: the state's value stays
    assert provider.diff(result.id, read.outs, wanted).changes
    provider.update(result.id, read.outs, wanted)
    assert (pbs.offsite.s3["hlb-pbs-offsite"]["region"], pbs.offsite.s3["hlb-pbs-offsite"]["secret-key"]) == (
        "us-east-005", KEY["secret_key"])
    rotated = {**wanted, "secret_key": "K005-rotated"}
    assert provider.diff(result.id, result.outs, rotated).changes
    assert provider.diff(result.id, result.outs, wanted).changes is False
    provider.update(result.id, result.outs, rotated)
    assert pbs.offsite.s3["hlb-pbs-offsite"]["secret-key"] == "K005-rotated"
    provider.delete(result.id, result.outs)
    provider.delete(result.id, result.outs)
    assert pbs.offsite.s3 == {}


def test_s3_endpoint_refuses_a_url_and_a_missing_key(base):
    failures = S3EndpointProvider().check({}, {**_endpoint(base, endpoint="https://s3.example.com"),
                                               "secret_key": None}).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("secret_key", "required: the secret_key"),
        ("endpoint", "PBS takes a host name, not a URL: write 's3.example.com' (and the port in port)")]


def test_s3_endpoint_ids_follow_pbs_name_rules(base, pbs):
    with pytest.raises(ProxmoxResourceError) as caught:
        _create(S3EndpointProvider(), _endpoint(base, job_id="x"))
    assert "HTTP 400 Parameter verification failed.: id: value must be at least 3 and at most 32" in str(caught.value)


def test_s3_datastore_is_created_by_a_task_and_reuses_its_bucket_prefix(base, pbs):
    endpoint = S3EndpointProvider()
    _, client = _create(endpoint, _endpoint(base))
    provider = S3DatastoreProvider()
    props = {**base, "job_id": "offsite-s3", "cache_path": "/mnt/datastore/offsite-s3",
             "backend": "type=s3,client=hlb-pbs-offsite,bucket=hlb-b2-tier1"}
    wanted, result = _create(provider, props)
    assert pbs.datastores["offsite-s3"]["backend"] == "type=s3,client=hlb-pbs-offsite,bucket=hlb-b2-tier1"
    assert any(p.startswith("/nodes/localhost/tasks/UPID") for _, p, _ in pbs.requests)
    pbs.edit("datastore", "offsite-s3", comment="edited")
    read = provider.read(result.id, result.outs)
    assert read.inputs["comment"] == "edited"
    provider.update(result.id, read.outs, wanted)
    assert "comment" not in pbs.datastores["offsite-s3"]
    assert provider.diff(result.id, result.outs, {**wanted, "backend": "type=s3,client=hlb-pbs-offsite,"
                                                  "bucket=other"}).replaces == ["backend"]
    pbs.pbs["sync"]["hlb-pbs-offsite"] = {"store": "offsite-s3", "remote-store": "tank", "schedule": "11:15"}
    provider.delete(result.id, result.outs)
    assert "offsite-s3" not in pbs.datastores
    # keep-job-configs: a replacement (new bucket or cache path) must not take the datastore's sync job with it
    assert pbs.pbs["sync"]["hlb-pbs-offsite"]["store"] == "offsite-s3"
    del pbs.pbs["sync"]["hlb-pbs-offsite"]
    _create(provider, props)  # the bucket still holds it: created again with reuse-datastore
    provider.delete(result.id, result.outs)
    endpoint.delete(client.id, client.outs)


def test_s3_datastore_whose_task_fails_says_why_and_leaves_nothing(base, pbs):
    provider = S3DatastoreProvider()
    pbs.fail_next_task("TASK ERROR: failed to access bucket: 403 Forbidden")
    with pytest.raises(ProxmoxResourceError) as caught:
        _create(provider, {**base, "job_id": "broken-s3", "cache_path": "/mnt/c",
                           "backend": "type=s3,client=hlb-pbs-offsite,bucket=b"})
    assert "pbs-offsite: PBS datastore 'broken-s3': create failed in task UPID:" in str(caught.value)
    assert "TASK ERROR: failed to access bucket: 403 Forbidden" in str(caught.value)
    assert "broken-s3" not in pbs.datastores


def test_s3_datastore_backend_must_be_s3(base):
    failures = S3DatastoreProvider().check({}, {**base, "job_id": "x-s3", "cache_path": "/c",
                                                "backend": "type=nfs"}).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("backend", "'type=nfs' is not an S3 backend: write type=s3,client=<endpoint id>,bucket=<bucket>")]


def test_sync_token_holds_datastore_backup_on_its_datastore_only(remote_base, remote_pbs):
    provider = SyncTokenProvider()
    props = {**remote_base, "user": "hlb-sync@pbs", "token_name": "push", "datastores": ["offsite"],
             "role": "DatastoreBackup"}
    wanted, result = _create(provider, props)
    state = remote_pbs.offsite
    assert result.id == "hlb-sync@pbs!push"
    assert result.outs["token_secret"] == state.tokens["hlb-sync@pbs!push"]["value"]
    assert sorted((e["path"], e["ugid"], e["roleid"]) for e in state.acl) == [
        ("/datastore/offsite", "hlb-sync@pbs", "DatastoreBackup"),
        ("/datastore/offsite", "hlb-sync@pbs!push", "DatastoreBackup")]
    assert "value" not in str(remote_pbs.requests[-1])
    # An ACL removed in the web UI: read shows the datastore gone, update grants it again.
    state.acl = [e for e in state.acl if e["ugid"] != "hlb-sync@pbs!push"]
    read = provider.read(result.id, result.outs)
    assert read.inputs["datastores"] == [] and "token_secret" not in read.inputs
    diff = provider.diff(result.id, read.outs, wanted)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(result.id, read.outs, wanted)
    assert len(state.acl) == 2 and updated.outs["token_secret"] == result.outs["token_secret"]
    # The token deleted in the web UI: read reports it, and the diff replaces it.
    state.remove_token("hlb-sync@pbs!push")
    read = provider.read(result.id, result.outs)
    assert provider.diff(result.id, read.outs, wanted).replaces == ["token_name"]
    refreshed = {k: v for k, v in read.outs.items() if v is not None}  # the state keeps no null token_name
    provider.delete(result.id, refreshed)
    provider.delete(result.id, result.outs)
    assert (state.users, state.tokens, state.acl) == ({}, {}, [])


def test_sync_token_create_is_all_or_nothing(remote_base, remote_pbs):
    remote_pbs.fail_next("PUT", "/access/acl", 500, "acl.cfg locked")
    with pytest.raises(ProxmoxResourceError) as caught:
        _create(SyncTokenProvider(), {**remote_base, "user": "hlb-sync@pbs", "token_name": "push",
                                      "datastores": ["offsite"], "role": "DatastoreBackup"})
    assert str(caught.value).startswith("pbs-offsite: PBS sync token hlb-sync@pbs!push: create failed: HTTP 500")
    assert (remote_pbs.offsite.users, remote_pbs.offsite.tokens, remote_pbs.offsite.acl) == ({}, {}, [])


def test_sync_token_refuses_broader_roles(remote_base):
    failures = SyncTokenProvider().check({}, {**remote_base, "user": "hlb-sync", "token_name": "push",
                                              "datastores": [], "role": "Admin"}).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("user", "'hlb-sync' is not a PBS user id: write name@realm, e.g. hlb-sync@pbs"),
        ("role", "'Admin' is more than a sync needs: use one of ['DatastoreBackup', 'DatastoreReader']"),
        ("datastores", "name at least one datastore the token may sync")]


def test_remote_and_a_push_sync_through_it(base, pbs):
    remote = RemoteProvider()
    fingerprint = ":".join(["ab"] * 32)
    wanted, result = _create(remote, {**base, "job_id": "hetzner", "host": "pbs.offsite.example", "port": 8007,
                                      "auth_id": "hlb-sync@pbs!push", "password": "token-value",
                                      "fingerprint": fingerprint})
    assert pbs.offsite.remote["hetzner"]["password"] == "token-value"
    sync = SyncJobProvider()
    _, job = _create(sync, {**base, "job_id": "hlb-pbs-offsite", "store": "tank", "remote": "hetzner",
                            "remote_store": "offsite", "schedule": "05:30", "sync_direction": "push"})
    assert pbs.pbs["sync"]["hlb-pbs-offsite"]["sync-direction"] == "push"
    pbs.edit("remote", "hetzner", fingerprint=":".join(["cd"] * 32))
    read = remote.read(result.id, result.outs)
    assert read.inputs["fingerprint"] == ":".join(["cd"] * 32) and read.inputs["password"] == "token-value"
    remote.update(result.id, read.outs, wanted)
    assert pbs.offsite.remote["hetzner"]["fingerprint"] == fingerprint
    sync.delete(job.id, job.outs)
    pbs.remove("remote", "hetzner")
    assert remote.read(result.id, result.outs).id is None
    remote.delete(result.id, result.outs)


def test_a_push_to_an_undeclared_remote_is_refused_by_pbs(base, pbs):
    with pytest.raises(ProxmoxResourceError) as caught:
        _create(SyncJobProvider(), {**base, "job_id": "hlb-x", "store": "tank", "remote": "nowhere",
                                    "remote_store": "offsite", "schedule": "05:30", "sync_direction": "push"})
    assert "HTTP 400 remote 'nowhere' does not exist." in str(caught.value)


# --- requests captured from a real preview and up (tests/providers/wire_forms/proxmox.json) --------------------------

PROVIDERS = {"proxmox:S3Endpoint": S3EndpointProvider, "proxmox:S3Datastore": S3DatastoreProvider,
             "proxmox:Remote": RemoteProvider, "proxmox:SyncToken": SyncTokenProvider}
CAPTURED = [(t, r) for t in PROVIDERS for r in wire_forms.of_type(t, "Check")]


def test_the_engine_sent_every_offsite_type():
    assert {t for t, _ in CAPTURED} == set(PROVIDERS)


@pytest.mark.parametrize(("kind", "record"), CAPTURED, ids=[wire_forms.record_id(r) for _, r in CAPTURED])
def test_check_accepts_what_the_engine_sends(kind, record):
    result = wire_forms.check(PROVIDERS[kind](), record)
    assert [(f.property, f.reason) for f in result.failures] == []
