"""Apply mode (a cluster instead of a Flux repository): real Secrets whose values are Pulumi secrets, and the
CNPG Cluster's plugin entry patched server-side instead of only exported."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import PROD_ENV, run_estate, stack_config


@pytest.fixture(scope="module")
def applied():
    config = stack_config("prod")
    config["homelab-backups:kubernetes"] = json.dumps({"mode": "apply", "secret_delivery": "secret"})
    registered, _ = run_estate("prod", config=config, env=PROD_ENV)
    return registered


SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""The key Pulumi's wire format marks secret values with."""


def _secret(value) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


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


def test_cluster_plugin_entry_is_patched_server_side(applied):
    patches = {r.inputs["metadata"]["name"]: r for r in applied
               if r.typ == "kubernetes:postgresql.cnpg.io/v1:ClusterPatch"}
    assert set(patches) == {"postgres18-immich", "postgres18-cluster"}
    for cluster, patch in patches.items():
        (plugin,) = patch.inputs["spec"]["plugins"]
        assert plugin["name"] == "pgbackrest.dalibo.com" and plugin["isWALArchiver"] is True, cluster
        assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
