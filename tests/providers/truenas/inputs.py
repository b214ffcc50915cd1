"""Inputs for the TrueNAS providers as the Python dynamic-provider host passes them.

`check` sees the program's inputs (with `__provider`), `create`/`update` get checked inputs, `read`/`delete` get the
stored outputs. Shared by the test modules beside this one (fixtures live in conftest.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.truenas.cloud_credentials import CloudCredentialProvider
from providers.truenas.cloud_sync_tasks import healthchecks_scripts
from tests.truenas_simulator import TrueNASSimulator

PING = "https://hc-ping.com/0f6a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"


PASSWORD = "correct-horse-battery-staple"


SALT = "pepper-and-salt-0123"


def checked(provider: Any, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    result = provider.check(dict(olds or {}), {"__provider": "<serialized provider>", **news})
    assert [(f.property, f.reason) for f in result.failures] == []
    return result.inputs


def failures(provider: Any, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, str]:
    result = provider.check(dict(olds or {}), {"__provider": "<serialized provider>", **news})
    return {f.property: f.reason for f in result.failures}


def without_provider(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key != "__provider"}


def snapshot_inputs(sim: TrueNASSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": sim.connection(),
        "context": "photos (daily)",
        "dataset": "tank/photos",
        "lifetime_value": 14,
        "lifetime_unit": "DAY",
        "naming_schema": "daily-%Y-%m-%d_%H-%M",
        "schedule": {"minute": "30", "hour": "3"},
        **overrides,
    }


def credential_inputs(sim: TrueNASSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": sim.connection(),
        "context": "b2 offsite",
        "name": "b2-photos",
        "provider": {"type": "B2", "account": "0012ab34cd", "key": "K001-app-key"},
        **overrides,
    }


def cloud_sync_inputs(sim: TrueNASSimulator, credential_id: int | str, **overrides: Any) -> dict[str, Any]:
    pre, post = healthchecks_scripts(PING)
    return {
        "connection": sim.connection(),
        "context": "photos -> b2",
        "description": "photos to b2",
        "path": "/mnt/tank/photos",
        "credentials": credential_id,
        "attributes": {"bucket": "homelab-photos", "folder": "nas/photos"},
        "schedule": {"minute": "15", "hour": "4"},
        "direction": "PUSH",
        "transfer_mode": "SYNC",
        "encryption": True,
        "filename_encryption": True,
        "encryption_password": PASSWORD,
        "encryption_salt": SALT,
        "pre_script": pre,
        "post_script": post,
        "offsite": True,
        **overrides,
    }


def make_credential(sim: TrueNASSimulator) -> int:
    provider = CloudCredentialProvider()
    return int(provider.create(checked(provider, credential_inputs(sim))).id)
