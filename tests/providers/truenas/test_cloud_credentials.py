"""`cloudsync.credentials`: checks, lifecycle, replacement on a type change, redacted secrets."""

from __future__ import annotations

import pytest

from providers.truenas.cloud_credentials import CloudCredentialProvider
from providers.truenas.cloud_sync_tasks import CloudSyncTaskProvider
from providers.truenas.service import TrueNASResourceError
from tests.providers.truenas.inputs import (
    checked,
    cloud_sync_inputs,
    credential_inputs,
    failures,
    make_credential,
)
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.server import CREDENTIALS


def test_credential_check_rules(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    assert failures(provider, credential_inputs(sim, provider={"type": "DROPBOX", "token": "t"})) == {
        "provider.type": "b2 offsite: must be one of B2, S3 (S3 covers R2, AWS and S3-compatible stores)"
    }
    assert failures(
        provider,
        credential_inputs(
            sim,
            name="",
            provider={
                "type": "S3",
                "access_key_id": "a",
                "endpoint": "s3.example.com",
                "skip_region": "no",
                "token": "x",
            },
        ),
    ) == {
        "name": "b2 offsite: required: a unique, non-empty name shown in the TrueNAS UI",
        "provider.token": "b2 offsite: not a S3 credential key; allowed: access_key_id, secret_access_key, endpoint, "
        "region, skip_region, signatures_v2, max_upload_parts",
        "provider.secret_access_key": "b2 offsite: required for S3 credentials",
        "provider.skip_region": "b2 offsite: must be a bool",
        "provider.endpoint": "b2 offsite: must be '' (AWS) or a URL like https://s3.eu-central-003.backblazeb2.com",
    }


def test_credential_lifecycle_and_replacement_on_type_change(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    created = provider.create(inputs)
    assert created.outs["provider_type"] == "B2"
    assert created.outs["provider"] == inputs["provider"]
    assert provider.diff(created.id, created.outs, inputs).changes is False

    renamed = checked(
        provider,
        credential_inputs(sim, name="b2-photos-eu", provider={**inputs["provider"], "key": "K001-rotated"}),
        inputs,
    )
    diff = provider.diff(created.id, created.outs, renamed)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, created.outs, renamed)
    assert sim.rows(CREDENTIALS)[int(created.id)]["provider"]["key"] == "K001-rotated"

    to_s3 = checked(
        provider,
        credential_inputs(
            sim,
            provider={
                "type": "S3",
                "access_key_id": "AKID",
                "secret_access_key": "S3KEY",
                "endpoint": "https://s3.eu-central-003.backblazeb2.com",
            },
        ),
        renamed,
    )
    assert to_s3["provider"]["endpoint"] == "https://s3.eu-central-003.backblazeb2.com/"
    diff = provider.diff(created.id, updated.outs, to_s3)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["provider"], True)
    provider.delete(created.id, updated.outs)
    replacement = provider.create(to_s3)
    assert provider.diff(replacement.id, replacement.outs, to_s3).changes is False
    provider.delete(replacement.id, replacement.outs)
    provider.delete(replacement.id, replacement.outs)
    assert sim.rows(CREDENTIALS) == {}


def test_credential_refresh_keeps_secrets_the_nas_redacts(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    created = provider.create(inputs)
    sim.redact_secrets = True
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["provider"] == inputs["provider"]
    assert provider.diff(created.id, refreshed.outs, inputs).changes is False
    sim.redact_secrets = False
    sim.edit(CREDENTIALS, int(created.id), provider={**inputs["provider"], "key": "changed-in-the-ui"})
    drifted = provider.read(created.id, created.outs)
    assert provider.diff(created.id, drifted.outs, inputs).changes is True


def test_credential_in_use_cannot_be_deleted_and_says_why(sim: TrueNASSimulator) -> None:
    credential_id = make_credential(sim)
    sync = CloudSyncTaskProvider()
    sync.create(checked(sync, cloud_sync_inputs(sim, credential_id)))
    credentials = CloudCredentialProvider()
    outs = credentials.read(str(credential_id), {"connection": sim.connection(), "context": "b2 offsite"}).outs
    with pytest.raises(TrueNASResourceError) as caught:
        credentials.delete(str(credential_id), outs)
    assert str(caught.value) == (
        "b2 offsite: TrueNAS could not delete the cloud credential: This credential is used by cloud sync task "
        "photos to b2 -> delete the cloud sync tasks using this credential, or point them at another credential, first"
    )


def test_lost_create_of_a_credential_is_cleaned_up_by_name(sim: TrueNASSimulator) -> None:
    provider = CloudCredentialProvider()
    inputs = checked(provider, credential_inputs(sim))
    sim.drop_connection(method="cloudsync.credentials.create", applied=True)
    with pytest.raises(TrueNASResourceError, match="was deleted again"):
        provider.create(inputs)
    assert sim.rows(CREDENTIALS) == {}
    assert provider.create(inputs).outs["name"] == "b2-photos"
