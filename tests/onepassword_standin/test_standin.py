"""The Connect stand-in answers in the published API's shapes: bearer auth, error bodies, filters, versions."""

from __future__ import annotations

import pytest
import requests

from tests.onepassword_standin import serving

TOKEN = "standin-token"


@pytest.fixture(scope="module")
def standin():
    with serving(TOKEN) as served:
        yield served


def _call(server, method, path, token=TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)


def test_every_api_call_needs_the_bearer_token(standin):
    server, _ = standin
    for token in (None, "wrong"):
        answer = _call(server, "GET", "/v1/vaults", token=token)
        assert (answer.status_code, answer.json()) == (401, {"status": 401, "message": "Invalid token signature"})
    assert _call(server, "GET", "/heartbeat", token=None).status_code == 200


def test_vaults_filter_by_name_and_unknown_ids_are_404(standin):
    server, vault_id = standin
    assert [v["id"] for v in _call(server, "GET", "/v1/vaults", params={"filter": 'name eq "homelab"'}).json()] \
        == [vault_id]
    assert _call(server, "GET", "/v1/vaults", params={"filter": 'name eq "other"'}).json() == []
    missing = _call(server, "GET", f"/v1/vaults/{'x' * 26}/items")
    assert (missing.status_code, missing.json()["status"]) == (404, 404)


def test_item_lifecycle_and_validation(standin):
    server, vault_id = standin
    body = {"vault": {"id": vault_id}, "title": "t", "category": "SECURE_NOTE",
            "fields": [{"label": "a", "value": "1", "type": "CONCEALED"}]}
    created = _call(server, "POST", f"/v1/vaults/{vault_id}/items", json=body).json()
    assert len(created["id"]) == 26 and created["version"] == 1
    assert [f["label"] for f in created["fields"]] == ["notesPlain", "a"]
    summaries = _call(server, "GET", f"/v1/vaults/{vault_id}/items", params={"filter": 'title eq "t"'}).json()
    assert [s["id"] for s in summaries] == [created["id"]] and "fields" not in summaries[0]
    updated = _call(server, "PUT", f"/v1/vaults/{vault_id}/items/{created['id']}", json={**created, "title": "u"})
    assert updated.json()["version"] == 2 and updated.json()["title"] == "u"
    wrong_vault = _call(server, "POST", f"/v1/vaults/{vault_id}/items", json={**body, "vault": {"id": "z" * 26}})
    assert wrong_vault.status_code == 400 and wrong_vault.json()["status"] == 400
    bad_category = _call(server, "POST", f"/v1/vaults/{vault_id}/items", json={**body, "category": "NOTE"})
    assert bad_category.status_code == 400
    assert _call(server, "DELETE", f"/v1/vaults/{vault_id}/items/{created['id']}").status_code == 204
    gone = _call(server, "GET", f"/v1/vaults/{vault_id}/items/{created['id']}")
    assert (gone.status_code, gone.json()["status"]) == (404, 404)
