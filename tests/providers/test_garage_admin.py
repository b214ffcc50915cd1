"""Garage per-writer keys against the admin API v2 stand-in (tests/garage_standin): rights on exactly one bucket,
drift read back and repaired, all-or-nothing create, the API's errors phrased with the fix."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from providers.garage_admin import GarageAdminError, GarageKeyProvider
from tests.garage_standin.server import Cluster, garage_admin

TOKEN = "garage-admin-token"
BUCKET = "hlb-garage-tier2"


@pytest.fixture
def cluster():
    with garage_admin(TOKEN) as (endpoint, state):
        state.create_bucket(BUCKET)
        state.create_bucket("someone-elses")
        yield endpoint, state


def _props(endpoint: str, **overrides: Any) -> dict[str, Any]:
    return {"key_name": f"{BUCKET}-photos-restic", "admin_endpoint": endpoint, "bucket": BUCKET, "access": "write",
            "ca_file": None, "credentials": {"admin_token": TOKEN}, **overrides}


def _raw(endpoint: str, method: str, operation: str, body: Any = None, token: str = TOKEN) -> tuple[int, Any]:
    """An independent client of the stand-in (urllib, not the provider's)."""
    request = urllib.request.Request(f"{endpoint}/v2/{operation}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _bucket_id(state: Cluster, alias: str) -> str:
    return next(i for i, b in state.buckets.items() if b["alias"] == alias)


def test_standin_answers_as_garage_does_for_a_bad_token_and_a_missing_key(cluster):
    endpoint, _ = cluster
    status, body = _raw(endpoint, "GET", "GetKeyInfo?id=GKnope", token="wrong")
    assert (status, body["code"], body["message"]) == (403, "AccessDenied", "Forbidden: Invalid bearer token")
    status, body = _raw(endpoint, "GET", "GetKeyInfo?id=GKnope")
    assert (status, body["code"]) == (404, "NoSuchAccessKey") and set(body) == {"code", "message", "region", "path"}


def test_writer_key_holds_read_and_write_on_its_bucket_only(cluster):
    endpoint, state = cluster
    outs = GarageKeyProvider().create(_props(endpoint)).outs
    assert outs["access_key_id"].startswith("GK") and len(outs["secret_access_key"]) == 64
    status, info = _raw(endpoint, "GET", f"GetKeyInfo?id={outs['access_key_id']}&showSecretKey=true")
    assert status == 200 and info["secretAccessKey"] == outs["secret_access_key"]
    assert info["permissions"] == {"createBucket": False} and info["name"] == f"{BUCKET}-photos-restic"
    assert [(b["globalAliases"], b["permissions"]) for b in info["buckets"]] == [
        ([BUCKET], {"read": True, "write": True, "owner": False})]
    assert outs["access"] == "write" and outs["other_buckets"] == [] and outs["create_bucket"] is False
    assert outs["bucket_id"] == _bucket_id(state, BUCKET)


def test_reader_key_cannot_write(cluster):
    endpoint, _ = cluster
    outs = GarageKeyProvider().create(_props(endpoint, access="read", key_name="reader-key")).outs
    _, info = _raw(endpoint, "GET", f"GetKeyInfo?id={outs['access_key_id']}")
    assert info["secretAccessKey"] is None
    assert [b["permissions"] for b in info["buckets"]] == [{"read": True, "write": False, "owner": False}]


def test_rights_granted_on_the_server_are_drift_that_update_withdraws(cluster):
    endpoint, state = cluster
    provider = GarageKeyProvider()
    props = _props(endpoint)
    outs = provider.create(props).outs
    key_id = outs["access_key_id"]
    for bucket in (BUCKET, "someone-elses"):
        _raw(endpoint, "POST", "AllowBucketKey", {"bucketId": _bucket_id(state, bucket), "accessKeyId": key_id,
                                                  "permissions": {"read": True, "write": True, "owner": True}})
    _raw(endpoint, "POST", f"UpdateKey?id={key_id}", {"allow": {"createBucket": True}})
    read = provider.read(key_id, outs).outs
    assert read["access"] == "drifted" and read["create_bucket"] is True
    assert read["other_buckets"] == [_bucket_id(state, "someone-elses")] and read["permissions"]["owner"] is True
    assert provider.diff(key_id, read, props).changes is True
    repaired = provider.update(key_id, read, props).outs
    assert (repaired["access"], repaired["other_buckets"], repaired["create_bucket"]) == ("write", [], False)
    assert repaired["permissions"] == {"read": True, "write": True, "owner": False}
    assert repaired["secret_access_key"] == outs["secret_access_key"]
    assert provider.diff(key_id, repaired, props).changes is False


def test_writer_turned_reader_updates_in_place_and_another_bucket_replaces(cluster):
    endpoint, _ = cluster
    provider = GarageKeyProvider()
    props = _props(endpoint)
    outs = provider.create(props).outs
    key_id = outs["access_key_id"]
    to_reader = provider.diff(key_id, outs, {**props, "access": "read"})
    assert (to_reader.changes, to_reader.replaces) == (True, [])
    assert provider.diff(key_id, outs, {**props, "bucket": "someone-elses"}).replaces == ["bucket"]
    updated = provider.update(key_id, outs, {**props, "access": "read"}).outs
    assert updated["permissions"] == {"read": True, "write": False, "owner": False} and updated["access"] == "read"


def test_key_deleted_on_the_server_reads_as_gone_and_delete_tolerates_it(cluster):
    endpoint, _ = cluster
    provider = GarageKeyProvider()
    outs = provider.create(_props(endpoint)).outs
    key_id = outs["access_key_id"]
    assert _raw(endpoint, "POST", f"DeleteKey?id={key_id}")[0] == 200
    assert provider.read(key_id, outs).id == ""
    provider.delete(key_id, outs)
    with pytest.raises(GarageAdminError, match="is gone .*run `pulumi refresh`"):
        provider.update(key_id, outs, _props(endpoint))


def test_a_wrong_token_is_refused_with_the_fix_and_never_echoed(cluster):
    endpoint, state = cluster
    with pytest.raises(GarageAdminError) as caught:
        GarageKeyProvider().create(_props(endpoint, credentials={"admin_token": "stolen-guess"}))
    message = str(caught.value)
    assert "refused the token (AccessDenied)" in message and "credentials.<destination>.admin_token" in message
    assert "stolen-guess" not in message and state.keys == {}


def test_a_missing_bucket_is_named_and_no_key_is_made(cluster):
    endpoint, state = cluster
    with pytest.raises(GarageAdminError, match="bucket 'hlb-absent-tier1' does not exist on the cluster"):
        GarageKeyProvider().create(_props(endpoint, bucket="hlb-absent-tier1"))
    assert state.keys == {}


def test_a_failed_grant_deletes_the_new_key(cluster):
    endpoint, state = cluster
    state.fail_next.add("AllowBucketKey")
    with pytest.raises(GarageAdminError) as caught:
        GarageKeyProvider().create(_props(endpoint))
    assert "500 InternalError" in str(caught.value) and "nothing was left behind" in str(caught.value)
    assert [k["deleted"] for k in state.keys.values()] == [True]
    assert state.calls[-1] == "DeleteKey"


def test_unreachable_admin_endpoint_names_the_setting():
    with pytest.raises(GarageAdminError, match="check admin_endpoint .*3903"):
        GarageKeyProvider().create(_props("http://127.0.0.1:9"))


def test_check_reports_each_bad_field():
    failures = GarageKeyProvider().check({}, {"key_name": "", "admin_endpoint": "nas:3903", "bucket": "B",
                                             "access": "owner", "credentials": {"admin_token": ""}}).failures
    assert [f.property for f in failures] == ["key_name", "admin_endpoint", "bucket", "access", "credentials"]


def test_the_admin_token_comes_from_provider_configuration(cluster):
    endpoint, _ = cluster
    provider = GarageKeyProvider()
    stack = {"homelab-backups:credentials": json.dumps({"nas-garage": {"admin_token": TOKEN}})}
    provider.configure(ConfigureRequest(config=Config(raw_config=stack, project_name="homelab-backups")))
    checked = provider.check({}, {**_props(endpoint), "credentials": None, "credentials_entry": "nas-garage"})
    assert checked.failures == [] and "credentials" not in checked.inputs
    outs = provider.create(checked.inputs).outs
    assert "credentials" not in outs and outs["credentials_entry"] == "nas-garage"
    provider.delete(outs["access_key_id"], outs)
