"""The prod estate with a `secret_store` under mocks: one store item per remote key the ExternalSecrets read, each
property carrying the value the apply-mode Secret would hold, all secret, kept or removed as `on_delete` says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers import wire
from stack.config import MissingCredentialsError
from tests.components.harness import PROD_ENV, run_estate, stack_config, stack_plan
from tests.mocks import RecordingMonitor, ServiceMocks

EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
K8S_SECRET = "kubernetes:core/v1:Secret"
ITEM = "pulumi-python:dynamic/onepassword:Item"
TOKEN = "SECRET-connect-token"
STORES = {
    "kubernetes": {"kind": "kubernetes", "namespace": "escrow", "context": "homelab"},
    "onepassword": {"kind": "onepassword", "connect_host": "https://connect.internal:8443", "vault": "homelab",
                    "on_delete": "remove"},
}


def _run(store: dict[str, Any], preview: bool = False, env: dict[str, str] | None = None):
    config = stack_config("prod") | {"homelab-backups:secret_store": json.dumps(store)}
    monitor = RecordingMonitor(ServiceMocks())
    registered, exported = run_estate("prod", preview=preview, config=config,
                                      env={**PROD_ENV, "HLB_ONEPASSWORD_TOKEN": TOKEN, **(env or {})},
                                      monitor=monitor)
    retained = {urn.rsplit("::", 1)[-1]: request.retainOnDelete for request, urn in monitor.requests}
    return registered, exported, retained


@pytest.fixture(scope="module", params=[(k, p) for k in STORES for p in (False, True)],
                ids=[f"{k}-{'preview' if p else 'up'}" for k in STORES for p in (False, True)])
def escrow(request):
    kind, preview = request.param
    registered, exported, retained = _run(STORES[kind], preview)
    return kind, preview, registered, exported, retained


def _items(kind: str, registered) -> dict[str, Any]:
    """Remote key -> the registered escrow resource."""
    if kind == "kubernetes":
        return {r.inputs["metadata"]["name"]: r for r in registered
                if r.typ == K8S_SECRET and r.name.startswith("secret-store-")}
    return {r.inputs["title"]: r for r in registered if r.typ == ITEM}


def _nas_plans():
    """(name, plan) of the prod stack's NAS datasets (an export's cloud sync copies are its target's)."""
    import yaml

    from tests.components.harness import ROOT

    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    nas = {d["name"] for d in config["homelab-backups:datasets"] if d["source"]["kind"] == "truenas"}
    return [(dp.name, dp) for dp in stack_plan("prod").datasets if dp.name in nas]


def _properties(kind: str, item) -> dict[str, Any]:
    return wire.reveal(item.inputs["stringData"] if kind == "kubernetes" else item.inputs["fields"])


def test_every_remote_ref_has_its_item_and_property_and_nothing_else(escrow):
    kind, _, registered, _, _ = escrow
    externals = [r for r in registered if r.typ == EXTERNAL_SECRET]
    assert externals
    wanted: dict[str, set[str]] = {}
    for ext in externals:
        assert ext.inputs["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "onepassword"}, ext.urn
        for entry in ext.inputs["spec"]["data"]:
            wanted.setdefault(entry["remoteRef"]["key"], set()).add(entry["remoteRef"]["property"])
    items = _items(kind, registered)
    separator = "." if kind == "kubernetes" else "/"
    # Plus one item per offsite NAS cloud sync copy, whose keys no ExternalSecret reads unless it is drilled.
    nas = {f"homelab-backups{separator}{ds}-{c.destination}-cloudsync": {"encryption_password", "encryption_salt"}
           for ds, dp in _nas_plans() for c in dp.copies if c.tool == "cloudsync" and c.offsite}
    assert nas and not set(nas) & set(wanted)
    assert {k: set(_properties(kind, v)) for k, v in items.items()} == wanted | nas
    assert all(key.startswith(f"homelab-backups{separator}") for key in wanted), sorted(wanted)
    assert "homelab-backups" + separator + "healthchecks" in wanted


def test_items_carry_the_generated_values_as_secrets(escrow):
    kind, preview, registered, exported, _ = escrow
    items = _items(kind, registered)
    for item in items.values():
        raw = item.inputs["stringData"] if kind == "kubernetes" else item.inputs["fields"]
        assert wire.is_secret_envelope(raw) or all(wire.is_secret_envelope(v) for v in raw.values()), item.urn
        assert item.parent and "SecretEscrow" in item.parent, item.urn
    if kind == "onepassword":
        assert all(wire.reveal(i.inputs["token"]) == TOKEN and wire.is_secret_envelope(i.inputs["token"])
                   for i in items.values())
        assert all({"fields", "token"} <= set(i.secret_outputs) for i in items.values())
    if preview:
        return
    stored = {v for item in items.values() for v in _properties(kind, item).values()}
    for dataset, per_copy in exported["secrets"].items():
        if dataset == "healthchecks_ping_base":
            continue
        if all(isinstance(v, str) for v in per_copy.values()):
            # Repository passwords and cipher passphrases: every copy's Secret reads its own.
            assert set(per_copy.values()) <= stored, dataset
        else:
            # NAS cloud sync keys: in the drill's item when drilled, and always in `<dataset>-<dest>-cloudsync`.
            for destination, keys in per_copy.items():
                separator = "." if kind == "kubernetes" else "/"
                item = items[f"homelab-backups{separator}{dataset}-{destination}-cloudsync"]
                assert _properties(kind, item) == {"encryption_password": keys["password"],
                                                   "encryption_salt": keys["salt"]}, (dataset, destination)
    ping = _properties(kind, items[f"homelab-backups{'.' if kind == 'kubernetes' else '/'}healthchecks"])
    assert ping == {"ping_key": PROD_ENV["HLB_HEALTHCHECKS_PING_KEY"]}
    # Cluster jobs read their writer and read-only keys from the store; NAS cloud sync keys go to the NAS itself.
    in_cluster = {d for d, per in exported["secrets"].items()
                  if isinstance(per, dict) and all(isinstance(v, str) for v in per.values())}
    def keys(role: str) -> set[str]:
        return {c[f] for d, per in exported[role].items() if d in in_cluster for c in per.values()
                for f in ("access_key_id", "secret_access_key")}

    assert keys("credentials") and keys("credentials") <= stored
    # Read-only keys are read only by copies whose checks use a Secret of their own (verify_every_days).
    assert keys("reader_credentials") & stored


def test_on_delete_keep_retains_and_remove_deletes(escrow):
    kind, _, registered, _, retained = escrow
    items = _items(kind, registered)
    expected = STORES[kind].get("on_delete", "keep") == "keep"
    assert items and all(retained[i.name] is expected for i in items.values())
    others = [r for r in registered if r.custom and r.name not in {i.name for i in items.values()}]
    assert not any(retained[r.name] for r in others), "only escrow items follow on_delete"


def test_kubernetes_store_has_its_own_provider_for_the_store_cluster():
    registered, _, _ = _run(STORES["kubernetes"])
    (provider,) = [r for r in registered if r.typ == "pulumi:providers:kubernetes" and r.name.startswith("secret-")]
    assert provider.inputs["namespace"] == "escrow" and provider.inputs["context"] == "homelab"
    assert "renderYamlToDirectory" not in provider.inputs, "the store is written, never rendered to git"


def test_missing_connect_token_is_named_before_anything_is_registered():
    config = stack_config("prod") | {"homelab-backups:secret_store": json.dumps(STORES["onepassword"])}
    monitor = RecordingMonitor(ServiceMocks())
    with pytest.raises(MissingCredentialsError) as caught:
        run_estate("prod", config=config, env=PROD_ENV, monitor=monitor)
    assert "'onepassword' has no ['token']: run pulumi config set --secret --path 'credentials.onepassword.token'" \
        in str(caught.value) and "HLB_ONEPASSWORD_TOKEN" in str(caught.value)
    assert monitor.requests == []


def test_without_a_store_nothing_is_escrowed(prod):
    registered, _ = prod
    assert not [r for r in registered if r.typ == ITEM or "SecretEscrow" in r.typ]
