"""components/estate.py: the whole estate under mocks. Everything holding backups protected, no secret in the
runbook or rendered inputs, ExternalSecrets reading the documented items, supplied writer keys checked, apply
mode (a cluster instead of a Flux repository) with real Secrets, and no drawn inventory making the program raise
outside a clean RunError (inventories drawn valid, then bent the way new users bend them).
"""

from __future__ import annotations

import json

import pulumi
import pytest
from hypothesis import HealthCheck, event, given, settings

from inventory.names import CRONJOB_LIMIT, NAME_LIMIT
from tests.components.harness import PROD_ENV, SECRET_SIG_KEY, of_type, run_estate, stack_plan
from tests.mocks import RecordingMonitor, ServiceMocks
from tests.strategies import INVENTORY_ENV, bent_inventories


def test_repository_passwords_are_protected_secrets(prod):
    registered, _ = prod
    secrets = of_type(registered, "secrets:GeneratedSecret")
    assert secrets
    for secret in secrets:
        assert secret.protect, secret.urn
        assert "value" in secret.secret_outputs, secret.urn


def test_no_secret_value_reaches_the_runbook_or_rendered_inputs(prod):
    registered, exported = prod
    text = json.dumps(exported["runbook"])
    assert "SECRET-" not in text
    for res in registered:
        if res.typ.startswith("kubernetes:"):
            assert "SECRET-" not in json.dumps(res.inputs, default=str), res.urn


def test_external_secrets_read_from_the_documented_store_items(prod):
    registered, _ = prod
    externals = [r for r in registered if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret"]
    assert externals
    for ext in externals:
        name = ext.inputs["metadata"]["name"]
        if name.endswith("-healthchecks"):
            # Every ping Secret reads the one ping key, stored once (README: Healthchecks).
            assert ext.inputs["spec"]["data"] == [{"secretKey": "ping_key", "remoteRef": {
                "key": "homelab-backups/healthchecks", "property": "ping_key"}}], ext.urn
            continue
        for entry in ext.inputs["spec"]["data"]:
            assert entry["remoteRef"]["key"] == f"homelab-backups/{name}", ext.urn


def test_a_supplied_writer_key_that_is_the_admin_key_is_refused_by_name(monkeypatch):
    import pulumi

    from stack.naming import identity_env

    plan = stack_plan("prod")
    writer = next(w for b in plan.buckets if b.destination == "storj" for w in b.writers)
    admin_id = PROD_ENV["HLB_STORJ_ACCESS_KEY_ID"]
    env = {**PROD_ENV, identity_env("storj", "writer", writer.key, "access_key_id"): admin_id}
    with pytest.raises(pulumi.RunError) as refused:
        run_estate("prod", env=env)
    message = str(refused.value)
    assert f"credentials.storj.writers.{writer.key}.access_key_id is the admin key of 'storj'" in message
    assert "SECRET" not in message and PROD_ENV["HLB_STORJ_ACCESS_KEY_ID"] not in message


def test_a_missing_supplied_key_names_the_config_path_and_the_variable():
    import pulumi

    with pytest.raises(pulumi.RunError) as missing:
        run_estate("prod", env=PROD_ENV, supply_identities=False)
    message = str(missing.value)
    assert "credentials.storj.writers." in message and "HLB_STORJ_WRITER_" in message


def _secret(value) -> bool:
    return isinstance(value, dict) and SECRET_SIG_KEY in value


def test_secrets_are_real_and_their_sensitive_values_secret(applied):
    secrets = [r for r in applied if r.typ == "kubernetes:core/v1:Secret"]
    assert secrets and not [r for r in applied if r.typ.endswith("ExternalSecret")]
    for secret in secrets:
        data = secret.inputs["stringData"]
        if _secret(data):
            continue  # the whole map travels as one secret
        for key, value in data.items():
            if "SECRET-" in json.dumps(value, default=str):
                assert _secret(value), f"{secret.urn}: {key} travels in plain text"


def _names(registered) -> list[tuple[str, str]]:
    names = []
    for r in registered:
        metadata = r.inputs.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
            names.append((r.inputs.get("kind") or r.typ, metadata["name"]))
    return names


@pytest.mark.slow  # 40 whole-program runs under mocks: 10-35 s
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bent_inventories())
def test_the_program_either_runs_or_stops_cleanly(raw):
    config = {f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()}
    monitor = RecordingMonitor(ServiceMocks())
    try:
        registered, _ = run_estate("test", config=config, env=INVENTORY_ENV, monitor=monitor)
    except pulumi.RunError as exc:
        assert str(exc), "a RunError must say what is wrong"
        assert monitor.requests == [], "a refused inventory must register nothing"
        event(f"refused: {type(exc).__name__}")
        return
    event("ran")
    for kind, name in _names(registered):
        limit = CRONJOB_LIMIT if kind.endswith("CronJob") else NAME_LIMIT
        assert len(name) <= limit, f"{kind} {name!r} is over {limit} characters"
    iam = [r.inputs["name"] for r in registered if r.typ == "aws:iam/user:User"]
    assert all(len(n) <= 64 for n in iam)
