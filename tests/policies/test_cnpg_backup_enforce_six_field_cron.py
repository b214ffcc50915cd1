"""cnpg-backup-enforce-six-field-cron: 6-field schedules and descriptors pass; 5-field and broken ones are named."""

from __future__ import annotations

from policies.rules import cnpg_backup_enforce_six_field_cron as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_schedules_pass():
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, f.scheduled_backup()).messages == []
    props = f.scheduled_backup()
    props["spec"]["schedule"] = "@every 6h"
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == []


def test_five_field_schedule():
    props = f.scheduled_backup()
    props["spec"]["schedule"] = "45 2,14 * * *"
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == [
        "ScheduledBackup database/immich-db-b2-diff (dataset immich-db, tier 1) schedule '45 2,14 * * *' has 5 fields; "
        "CloudNativePG's cron starts with a seconds field (6 fields): write '0 45 2,14 * * *'."]


def test_broken_seconds_field():
    props = f.scheduled_backup()
    props["spec"]["schedule"] = "99 45 2 * * *"
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == [
        "ScheduledBackup database/immich-db-b2-diff (dataset immich-db, tier 1) schedule '99 45 2 * * *' is not a "
        "6-field cron: seconds field '99' is not a second (0-59)."]


def test_missing_schedule():
    props = f.scheduled_backup()
    del props["spec"]["schedule"]
    assert f.run_resource(POLICY, kinds.SCHEDULED_BACKUP, props).messages == [
        "ScheduledBackup database/immich-db-b2-diff (dataset immich-db, tier 1) has schedule None; set a 6-field cron "
        "such as '0 15 3 * * *'."]
