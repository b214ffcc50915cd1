"""truenas-enable-cloudsync-encryption: encrypted offsite pushes pass; unencrypted ones are named; local and
PULL tasks are not applicable."""

from __future__ import annotations

from policies.rules import truenas_enable_cloudsync_encryption as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_task_passes():
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, f.cloud_sync_task()).messages == []


def test_unencrypted_offsite_push():
    props = f.cloud_sync_task() | {"encryption": False}
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, props).messages == [
        "cloud sync task 'photos -> hlb-b2-tier1' (bucket 'hlb-b2-tier1') pushes offsite with encryption False; "
        "offsite copies are encrypted client-side: set encryption=True with a secret encryption_password (and "
        "filename_encryption=True)."]


def test_encryption_left_to_the_api_default_and_offsite_not_declared():
    props = f.cloud_sync_task()
    del props["encryption"], props["offsite"]
    (message,) = f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, props).messages
    assert "pushes offsite with encryption False;" in message


def test_encryption_without_password():
    props = f.cloud_sync_task()
    del props["encryption_password"]
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, props).messages == [
        "cloud sync task 'photos -> hlb-b2-tier1' (bucket 'hlb-b2-tier1') enables encryption without an "
        "encryption_password; pass one as a Pulumi secret and keep it in escrow."]


def test_password_unknown_during_preview_is_present():
    props = f.cloud_sync_task() | {"encryption_password": f.UNKNOWN}
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, props).messages == []


def test_local_and_pull_tasks_are_not_applicable():
    local = f.cloud_sync_task() | {"offsite": False, "encryption": False}
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, local).not_applicable == (
        "the task is declared offsite: false (its bucket is on the local network)")
    pull = f.cloud_sync_task() | {"direction": "PULL", "encryption": False}
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, pull).not_applicable == (
        "PULL tasks restore into the NAS; only pushes leave it")
