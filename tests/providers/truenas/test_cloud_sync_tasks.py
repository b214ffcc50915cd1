"""`cloudsync`: checks (offsite encryption, re-keying), lifecycle, and the Healthchecks scripts."""

from __future__ import annotations

import pytest

from providers.truenas.cloud_sync_tasks import CloudSyncTaskProvider, healthchecks_scripts
from tests.providers.truenas.inputs import (
    PASSWORD,
    PING,
    SALT,
    checked,
    cloud_sync_inputs,
    failures,
    make_credential,
    without_provider,
)
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import CLOUD_SYNC


def test_healthchecks_scripts_ping_start_then_success_and_a_failed_success_ping_fails_the_task() -> None:
    pre, post = healthchecks_scripts(PING + "/")
    assert pre.splitlines()[-1] == f"curl -fsS -m 10 --retry 5 -o /dev/null {PING}/start || true"
    assert post.splitlines()[-1] == f"curl -fsS -m 10 --retry 5 -o /dev/null {PING}"
    for script in (pre, post):
        assert script.startswith("#!/bin/sh\n")
        assert not any(word in script for word in ("env", "echo", "printenv", "set -x", "$"))
    slug_pre, _ = healthchecks_scripts("https://hc.lan/ping/k3y/photos-offsite?create=1")
    assert "https://hc.lan/ping/k3y/photos-offsite/start?create=1" in slug_pre


@pytest.mark.parametrize("url", ["hc-ping.com/uuid", "https://hc-ping.com/", "https://x/$(reboot)", "https://x/a b"])
def test_healthchecks_scripts_refuse_urls_that_are_not_plain(url: str) -> None:
    with pytest.raises(ValueError, match="plain http"):
        healthchecks_scripts(url)


def test_cloud_sync_check_rules(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    found = failures(
        provider,
        cloud_sync_inputs(
            sim,
            3,
            encryption=False,
            schedule=None,
            path="/srv/photos",
            credentials="b2",
            direction="UP",
            transfer_mode="MIRROR",
            attributes={"folder": 7},
            transfers=0,
            snapshot=True,
            bwlimit=[{"time": "18:00", "bandwidth": 1_000_000}, {"time": "08:00", "bandwidth": None}],
        ),
    )
    assert {key: value.removeprefix("photos -> b2: ") for key, value in found.items()} == {
        "path": "must be a path inside a pool such as /mnt/tank/photos",
        "credentials": "must be the id of a cloud credential (CloudCredential.id)",
        "attributes.bucket": "required: the bucket name",
        "attributes.folder": "required: the folder inside the bucket ('' for its root)",
        "schedule": "required: {minute, hour, dom, month, dow} (TrueNAS 25.04 has no default)",
        "direction": "must be PUSH (NAS to cloud) or PULL (cloud to NAS)",
        "transfer_mode": "must be SYNC, COPY or MOVE",
        "transfers": "must be a whole number >= 1, or null for rclone's default",
        "bwlimit": "entries must be in strictly increasing time order",
    }


def test_offsite_push_must_encrypt(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=False)) == {
        "encryption": "photos -> b2: an offsite PUSH task must encrypt client-side: set encryption=true with "
        "encryption_password and encryption_salt (secrets)"
    }
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=True, encryption_password="")) == {
        "encryption_password": "photos -> b2: required when encryption is true; pass it as a secret"
    }
    assert failures(provider, cloud_sync_inputs(sim, 1, encryption=False, offsite=False)) == {}


def test_rekeying_in_place_is_refused_but_a_new_folder_is_fine(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    olds = checked(provider, cloud_sync_inputs(sim, 1))
    rekeyed = cloud_sync_inputs(sim, 1, encryption_password="a-new-password")
    assert list(failures(provider, rekeyed, olds)) == ["encryption_password"]
    assert "new folder" in failures(provider, rekeyed, olds)["encryption_password"]
    assert PASSWORD not in str(failures(provider, rekeyed, olds))
    moved = {**rekeyed, "attributes": {"bucket": "homelab-photos", "folder": "nas/photos-2026"}}
    assert failures(provider, moved, olds) == {}


def test_cloud_sync_task_create_refresh_update_delete(sim: TrueNASSimulator) -> None:
    credential_id = make_credential(sim)
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, str(credential_id)))
    assert inputs["credentials"] == credential_id
    created = provider.create(inputs)
    stored = sim.rows(CLOUD_SYNC)[int(created.id)]
    assert (stored["credentials"], stored["encryption_password"], stored["post_script"]) == (
        credential_id,
        PASSWORD,
        inputs["post_script"],
    )
    assert created.outs == {**without_provider(inputs), "task_id": int(created.id)}
    assert provider.diff(created.id, created.outs, inputs).changes is False

    # The NAS adds keys of its own to attributes; they are not drift.
    sim.edit(CLOUD_SYNC, int(created.id), attributes={**stored["attributes"], "region": "eu-central-003"})
    assert provider.diff(created.id, provider.read(created.id, created.outs).outs, inputs).changes is False

    sim.edit(CLOUD_SYNC, int(created.id), enabled=False, encryption_password="typed-in-the-ui")
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["enabled"], refreshed.inputs["encryption_password"]) == (False, "typed-in-the-ui")
    drift = provider.diff(created.id, refreshed.outs, inputs)
    assert (drift.changes, drift.replaces) == (True, [])
    updated = provider.update(created.id, refreshed.outs, inputs)
    assert (updated.outs["enabled"], sim.rows(CLOUD_SYNC)[int(created.id)]["encryption_password"]) == (True, PASSWORD)

    provider.delete(created.id, updated.outs)
    provider.delete(created.id, updated.outs)
    assert sim.rows(CLOUD_SYNC) == {}


def test_cloud_sync_refresh_with_redacted_secrets_is_not_drift(sim: TrueNASSimulator) -> None:
    provider = CloudSyncTaskProvider()
    inputs = checked(provider, cloud_sync_inputs(sim, make_credential(sim)))
    created = provider.create(inputs)
    sim.redact_secrets = True
    refreshed = provider.read(created.id, created.outs)
    assert (refreshed.outs["encryption_password"], refreshed.outs["encryption_salt"]) == (PASSWORD, SALT)
    assert provider.diff(created.id, refreshed.outs, inputs).changes is False
