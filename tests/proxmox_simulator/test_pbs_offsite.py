"""The stand-in's offsite endpoints answer as PBS's published API does: write-only secrets, `digest` beside config
objects and refused when stale, `delete` limited to clearable properties, PBS name rules, datastore creation as a
worker task, and a token's value only in its creation's answer."""

from __future__ import annotations

import pytest
import requests

from tests.proxmox_simulator import ProxmoxSimulator

AUTH = {"Authorization": "PBSAPIToken=admin@pbs!t:secret"}


@pytest.fixture
def pbs():
    with ProxmoxSimulator("PBS", token_id="admin@pbs!t", token_secret="secret") as simulator:
        simulator.api = lambda method, where, **data: requests.request(  # type: ignore[attr-defined]
            method, f"{simulator.url}/api2/json{where}", data=data, headers=AUTH, timeout=10)
        yield simulator


def test_s3_secret_is_write_only_and_digest_guards_concurrent_edits(pbs):
    assert pbs.api("POST", "/config/s3", id="b2-main", endpoint="s3.example.com", **{
        "access-key": "AK", "secret-key": "SK"}).status_code == 200
    answer = pbs.api("GET", "/config/s3/b2-main").json()
    assert answer["data"] == {"id": "b2-main", "endpoint": "s3.example.com", "access-key": "AK"}
    assert len(answer["digest"]) == 64
    assert pbs.api("PUT", "/config/s3/b2-main", region="eu", digest=answer["digest"]).status_code == 200
    stale = pbs.api("PUT", "/config/s3/b2-main", region="us", digest=answer["digest"])
    assert (stale.status_code, stale.json()["message"].strip()) == (
        400, "detected modified configuration - file changed by other user? Try again.")
    refused = pbs.api("PUT", "/config/s3/b2-main", delete="endpoint")
    assert refused.json()["errors"] == {"delete": "unable to delete 'endpoint'"}
    assert pbs.api("PUT", "/config/s3/b2-main", delete="region").status_code == 200
    assert "region" not in pbs.offsite.s3["b2-main"] and pbs.offsite.s3["b2-main"]["secret-key"] == "SK"


@pytest.mark.parametrize(("name", "error"), [
    ("ab", "value must be at least 3 and at most 32 characters long ('ab')"),
    ("-bad", "value does not match the regex pattern"),
])
def test_names_follow_pbs_safe_id_rules(pbs, name, error):
    answer = pbs.api("POST", "/config/remote", name=name, host="h", password="p", **{"auth-id": "u@pbs!t"}).json()
    assert answer["errors"] == {"name": error}


def test_remote_password_is_never_read_back(pbs):
    pbs.api("POST", "/config/remote", name="offsite", host="pbs2", password="tokenvalue", **{"auth-id": "u@pbs!t"})
    assert "password" not in pbs.api("GET", "/config/remote/offsite").json()["data"]
    assert "password" not in str(pbs.api("GET", "/config/remote").json())


def test_s3_datastore_creation_is_a_task_and_backend_is_creation_only(pbs):
    pbs.api("POST", "/config/s3", id="b2-main", endpoint="s3.example.com", **{"access-key": "A", "secret-key": "S"})
    upid = pbs.api("POST", "/config/datastore", name="off", path="/mnt/c",
                   backend="type=s3,client=b2-main,bucket=bk").json()["data"]
    assert upid.startswith("UPID:localhost:")
    status = pbs.api("GET", f"/nodes/localhost/tasks/{upid}/status").json()["data"]
    assert (status["status"], status["exitstatus"]) == ("stopped", "OK")
    assert pbs.api("PUT", "/config/datastore/off", backend="type=s3,client=x,bucket=y").json()["errors"] == {
        "backend": "schema does not allow additional properties"}
    pbs.api("DELETE", "/config/datastore/off")
    upid = pbs.api("POST", "/config/datastore", name="off", path="/mnt/c",
                   backend="type=s3,client=b2-main,bucket=bk").json()["data"]
    assert "in-use marker found" in pbs.api("GET", f"/nodes/localhost/tasks/{upid}/status").json()["data"][
        "exitstatus"]
    assert "off" not in pbs.datastores


def test_token_value_only_in_the_creation_answer(pbs):
    pbs.api("POST", "/access/users", userid="sync@pbs")
    created = pbs.api("POST", "/access/users/sync@pbs/token/push").json()["data"]
    assert created["tokenid"] == "sync@pbs!push" and len(created["value"]) == 36
    assert "value" not in pbs.api("GET", "/access/users/sync@pbs/token/push").json()["data"]
    pbs.api("PUT", "/access/acl", path="/datastore/off", role="DatastoreBackup", **{"auth-id": "sync@pbs!push"})
    assert [e["ugid"] for e in pbs.api("GET", "/access/acl").json()["data"]] == ["sync@pbs!push"]
    pbs.api("DELETE", "/access/users/sync@pbs")
    assert pbs.api("GET", "/access/acl").json()["data"] == [] and pbs.offsite.tokens == {}
