"""cnpg-backup-configure-plugin-method: plugin backups pass; the default method and a missing plugin are named."""

from __future__ import annotations

from policies.rules import cnpg_backup_configure_plugin_method as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_backup_passes():
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, f.scheduled_backup()).messages == []


def test_method_left_to_the_default():
    props = f.scheduled_backup()
    del props["spec"]["method"]
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == [
        "ScheduledBackup database/immich-db-b2-diff (dataset immich-db, tier 1) has no method (CloudNativePG defaults "
        "to barmanObjectStore); backups here go through the pgBackRest plugin: set method: plugin."]


def test_volume_snapshot_method():
    props = f.scheduled_backup()
    props["spec"]["method"] = "volumeSnapshot"
    (message,) = f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages
    assert "has method 'volumeSnapshot';" in message


def test_plugin_without_a_name():
    props = f.scheduled_backup()
    del props["spec"]["pluginConfiguration"]
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == [
        "ScheduledBackup database/immich-db-b2-diff (dataset immich-db, tier 1) names no plugin; set "
        "pluginConfiguration.name: pgbackrest.dalibo.com."]
