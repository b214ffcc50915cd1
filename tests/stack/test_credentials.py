"""Every credential a stack needs is checked before the first resource is registered, all listed at once."""

from __future__ import annotations

import json

import pytest

from stack.config import MissingCredentialsError
from tests.components.harness import BASE_ESTATE_ENV, inventory_config, run_estate
from tests.mocks import RecordingMonitor, ServiceMocks


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_missing_credentials_listed_at_once_and_nothing_registered(preview, estate):
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", preview=preview, config=inventory_config(estate), env={}, monitor=monitor)
    assert str(caught.value) == (
        "2 credential(s) missing; nothing was changed:\n"
        "  - 'b2' has no ['key_id', 'key']: run pulumi config set --secret --path 'credentials.b2.key_id' ...; "
        "pulumi config set --secret --path 'credentials.b2.key' ... (or export HLB_B2_KEY_ID, HLB_B2_KEY)\n"
        "  - 'truenas' has no ['api_key']: run pulumi config set --secret --path 'credentials.truenas.api_key' ... "
        "(or export HLB_TRUENAS_API_KEY)")
    assert monitor.requests == []


def test_one_field_missing_from_config_is_named(estate):
    stored = json.dumps({"b2": {"key_id": "id"}, "truenas": {"api_key": "k"}})
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", config=inventory_config(estate, {"homelab-backups:credentials": stored}), env={},
                   monitor=monitor)
    assert str(caught.value) == (
        "1 credential(s) missing; nothing was changed:\n"
        "  - 'b2' has no ['key']: run pulumi config set --secret --path 'credentials.b2.key' ... "
        "(or export HLB_B2_KEY)")
    assert monitor.requests == []


def test_credentials_from_config_and_environment_together_suffice(estate):
    stored = json.dumps({"b2": {"key_id": "id", "key": "SECRET"}})
    registered, _ = run_estate("test", config=inventory_config(estate, {"homelab-backups:credentials": stored}),
                               env={"HLB_TRUENAS_API_KEY": "SECRET-nas"})
    assert any(r.typ.endswith("b2:Bucket") for r in registered)


def test_credentials_the_plan_does_not_use_are_not_required(estate):
    estate = {**estate, "datasets": estate["datasets"][1:2]}
    config = inventory_config(estate)
    registered, _ = run_estate("test", config=config, env={})
    assert registered
    assert not any("b2:" in r.typ or "truenas:" in r.typ for r in registered)


def test_keys_the_user_must_supply_are_checked_before_anything_is_registered():
    """A Garage server on the LAN gets no keys from the program: each writer's own key and its read-only twin
    must be supplied, and a missing one stops the run before the first resource, like a missing admin key."""
    estate = {
        "destinations": [
            {"name": "garage", "kind": "s3-compatible", "flavour": "garage", "offsite": False,
             "endpoint": "https://garage.lan:3900"},
        ],
        "datasets": [
            {"name": "grafana", "tier": 2, "size_gb": 1, "destinations": ["garage"],
             "source": {"kind": "postgres", "namespace": "monitoring", "cluster": "grafana-db"}},
        ],
    }
    config = inventory_config(estate)
    admin = {"HLB_GARAGE_ACCESS_KEY_ID": "admin-id", "HLB_GARAGE_SECRET_ACCESS_KEY": "SECRET-admin"}
    reader = {"HLB_GARAGE_READER_GRAFANA_PGBACKREST_ACCESS_KEY_ID": "r",
              "HLB_GARAGE_READER_GRAFANA_PGBACKREST_SECRET_ACCESS_KEY": "SECRET-r"}
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", config=config, env=admin | reader, supply_identities=False, monitor=monitor)
    assert str(caught.value) == (
        "1 credential(s) missing; nothing was changed:\n"
        "  - credentials.garage.writers.grafana-pgbackrest (a key the program cannot create; "
        "README, 'Keys per writer') has no "
        "['access_key_id', 'secret_access_key']: run pulumi config set --secret --path "
        "'credentials.garage.writers.grafana-pgbackrest.access_key_id' ...; pulumi config set --secret --path "
        "'credentials.garage.writers.grafana-pgbackrest.secret_access_key' ... (or export "
        "HLB_GARAGE_WRITER_GRAFANA_PGBACKREST_ACCESS_KEY_ID, HLB_GARAGE_WRITER_GRAFANA_PGBACKREST_SECRET_ACCESS_KEY)")
    assert monitor.requests == []


def _endpoint_only(estate: dict, extra: dict | None = None) -> dict[str, str]:
    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc-ping.com/"
    return inventory_config(estate, extra)


def test_a_ping_endpoint_without_its_key_stops_before_anything_is_registered(estate):
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", config=_endpoint_only(estate), env=BASE_ESTATE_ENV, monitor=monitor)
    assert str(caught.value) == (
        "1 credential(s) missing; nothing was changed:\n"
        "  - monitoring.healthchecks.ping_base 'https://hc-ping.com/' is a ping endpoint without the project ping key, "
        "so every slug ping would answer 404: copy the key from the project's Settings page and run pulumi config set "
        "--secret --path 'credentials.healthchecks.ping_key' <ping-key> (or export HLB_HEALTHCHECKS_PING_KEY)")
    assert monitor.requests == []


def test_the_ping_key_from_the_environment_completes_the_endpoint(estate):
    registered, _ = run_estate("test", config=_endpoint_only(estate),
                               env={**BASE_ESTATE_ENV, "HLB_HEALTHCHECKS_PING_KEY": "SECRET-ping-key"})
    tasks = [r for r in registered if r.typ.endswith("truenas:CloudSyncTask")]
    assert tasks
    for task in tasks:
        assert "https://hc-ping.com/SECRET-ping-key/backup-" in task.inputs["post_script"]["value"], task.urn


def test_a_malformed_ping_key_is_refused_without_being_echoed(estate):
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", config=_endpoint_only(estate),
                   env={**BASE_ESTATE_ENV, "HLB_HEALTHCHECKS_PING_KEY": "bad/key?x=1"})
    assert "bad/key" not in str(caught.value)
    assert str(caught.value).startswith("credentials.healthchecks.ping_key is not a Healthchecks project ping key")


def test_two_ping_keys_are_refused(estate):
    stored = json.dumps({"healthchecks": {"ping_key": "SECRET-second"}})
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("test", config=inventory_config(estate, {"homelab-backups:credentials": stored}),
                   env=BASE_ESTATE_ENV)
    assert str(caught.value) == (
        "1 credential(s) missing or in conflict; nothing was changed:\n"
        "  - monitoring.healthchecks.ping_base carries a ping key and credentials.healthchecks.ping_key (or "
        "HLB_HEALTHCHECKS_PING_KEY) sets one too: keep the credential and write ping_base as `https://hc-ping.com/`")
