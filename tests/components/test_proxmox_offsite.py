"""components/proxmox_offsite.py under mocks: the second example stack's S3-backed offsite datastore (an S3 endpoint
holding a B2 key of its own, scoped to the datastore's prefix; the datastore; the sync waiting for it), and
the same stack with the offsite datastore on a remote PBS (sync token there, remote entry here, push sync, the remote
datastore's jobs on the remote). No secret in plain text."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import of_type, run_estate, stack_config
from tests.proxmox_estate import PVE_ENV

FINGERPRINT = ":".join(["5f"] * 32)


def _remote_config(**offsite_fields: str) -> dict[str, str]:
    """The pve stack with its offsite datastore on a declared remote PBS (`hetzner`) instead of S3-backed."""
    config = stack_config("pve")
    pve = json.loads(config["homelab-backups:proxmox"])
    pve["remotes"] = [{"name": "hetzner", "api_url": "https://pbs.offsite.example:8007",
                       "token_id": "admin@pbs!homelab-backups", "fingerprint": FINGERPRINT}]
    offsite = next(d for d in pve["destinations"] if d["name"] == "pbs-offsite")
    del offsite["s3"]
    offsite |= {"remote": "hetzner", **offsite_fields}
    config["homelab-backups:proxmox"] = json.dumps(pve)
    return config


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def remote_stack(request):
    config = _remote_config(datastore="homelab")
    return run_estate("pve", preview=request.param, config=config,
                      env=PVE_ENV | {"HLB_PBS_REMOTE_HETZNER_TOKEN_SECRET": "SECRET-remote-admin"})


def test_the_s3_endpoint_holds_a_b2_key_of_its_own_scoped_to_the_datastore(pve_stack):
    registered, _ = pve_stack
    (endpoint,) = of_type(registered, "proxmox:S3Endpoint")
    inputs = endpoint.inputs
    assert {k: inputs[k] for k in ("job_id", "endpoint", "region", "provider_quirks", "credentials_entry")} == {
        "job_id": "hlb-pbs-offsite", "endpoint": "s3.us-east-005.backblazeb2.com", "region": "us-east-005",
        "provider_quirks": "skip-if-none-match-header", "credentials_entry": "pbs"}
    keys = [k for k in of_type(registered, "b2:ApplicationKey") if "pbs-offsite-pbs" in k.name]
    assert sorted((k.name, k.inputs["name_prefix"]) for k in keys) == [
        ("hlb-b2-tier1-pbs-offsite-pbs-key", "offsite-s3/"), ("hlb-b2-tier1-pbs-offsite-pbs-read-key", "offsite-s3/")]


def test_the_bucket_key_is_protected_and_a_secret_output(pve_stack):
    registered, _ = pve_stack
    (store,) = of_type(registered, "proxmox:S3Datastore")
    assert (store.inputs["job_id"], store.inputs["cache_path"]) == ("offsite-s3", "/mnt/datastore/offsite-s3")
    assert not store.protect, store.urn  # the bucket and its key are (the data is there)
    (sync,) = of_type(registered, "proxmox:SyncJob")
    assert "sync_direction" not in sync.inputs  # a local pull: PBS's default
    (endpoint,) = of_type(registered, "proxmox:S3Endpoint")
    assert set(endpoint.secret_outputs) >= {"access_key", "secret_key"}, endpoint.urn
    key = next(k for k in of_type(registered, "b2:ApplicationKey") if k.name == "hlb-b2-tier1-pbs-offsite-pbs-key")
    assert key.protect, key.urn


def test_the_remote_pbs_gets_a_sync_token_and_a_push(remote_stack):
    registered, _ = remote_stack
    (token,) = of_type(registered, "proxmox:SyncToken")
    assert {k: token.inputs[k] for k in ("user", "token_name", "datastores", "role", "credentials_entry")} == {
        "user": "hlb-sync@pbs", "token_name": "push", "datastores": ["homelab"], "role": "DatastoreBackup",
        "credentials_entry": "pbs-remote-hetzner"}
    assert token.inputs["connection"]["url"] == "https://pbs.offsite.example:8007"
    (remote,) = of_type(registered, "proxmox:Remote")
    assert {k: remote.inputs[k] for k in ("job_id", "host", "port", "auth_id", "fingerprint")} == {
        "job_id": "hetzner", "host": "pbs.offsite.example", "port": 8007, "auth_id": "hlb-sync@pbs!push",
        "fingerprint": FINGERPRINT}
    (sync,) = of_type(registered, "proxmox:SyncJob")
    assert {k: sync.inputs[k] for k in ("store", "remote", "remote_store", "sync_direction")} == {
        "store": "tank", "remote": "hetzner", "remote_store": "homelab", "sync_direction": "push"}
    assert "password" in remote.secret_outputs and "token_secret" in token.secret_outputs
    on_remote = [r for r in registered if r.inputs.get("credentials_entry") == "pbs-remote-hetzner"]
    assert sorted(r.typ.rsplit(":", 1)[-1] for r in on_remote) == ["DatastoreGc", "PruneJob", "SyncToken",
                                                                  "VerifyJob"]
    assert not of_type(registered, "proxmox:S3Endpoint")


def test_no_secret_in_plain_text(pve_stack, remote_stack):
    from providers.wire import is_secret_envelope

    (endpoint,) = of_type(pve_stack[0], "proxmox:S3Endpoint")
    assert is_secret_envelope(endpoint.inputs["secret_key"]) and is_secret_envelope(endpoint.inputs["access_key"])
    registered = remote_stack[0]
    text = json.dumps([r.inputs for r in registered] + [r.state for r in registered], default=str)
    assert "SECRET-remote-admin" not in text and "SECRET-pbs-token" not in text


def test_a_remote_without_its_admin_token_secret_stops_before_anything_is_registered():
    from stack.config import MissingCredentialsError
    from tests.mocks import RecordingMonitor, ServiceMocks

    config = _remote_config()
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("pve", config=config, env=PVE_ENV, monitor=monitor)
    assert str(caught.value) == (
        "1 credential(s) missing; nothing was changed:\n"
        "  - 'pbs-remote-hetzner' has no ['token_secret']: run pulumi config set --secret --path "
        "'credentials.pbs-remote-hetzner.token_secret' ... (or export HLB_PBS_REMOTE_HETZNER_TOKEN_SECRET)")
    assert monitor.requests == []
