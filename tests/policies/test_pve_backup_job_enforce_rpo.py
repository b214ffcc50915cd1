"""pve-backup-job-enforce-rpo: a schedule within the tier's RPO passes; a looser one, an unreadable one and a disabled
job are named."""

from __future__ import annotations

import pytest

from policies.rules import pve_backup_job_enforce_rpo as rule
from policies.rules.support import kinds
from policies.rules.support.calendar import longest_gap_hours
from tests.policies import fixtures as f

POLICY = rule.POLICY


def job(**changes):
    return {"job_id": "hlb-infra-nas-vzdump", "schedule": "6,18:10", "storage": "truenas-backups",
            "vmid": "100,110", "enabled": True, "tier": 1.0} | changes


def test_compliant_job_passes():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job()).messages == []


def test_daily_schedule_is_looser_than_tier_1():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(schedule="21:00")).messages == [
        "PVE backup job 'hlb-infra-nas-vzdump' runs '21:00', up to 24 h apart, above tier 1's RPO of 12 h; schedule "
        "it at least every 12 h."]


def test_disabled_job_and_unreadable_schedule():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(enabled=False, schedule="tomorrow")).messages == [
        "PVE backup job 'hlb-infra-nas-vzdump' is disabled, so its tier 1 guests get no new backups; set enabled: "
        "true.",
        "PVE backup job 'hlb-infra-nas-vzdump' has schedule 'tomorrow', which is not a calendar event; write e.g. "
        "'21:00' or 'mon..fri 02:30'."]


def test_unknown_schedule_during_preview_passes():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(schedule=f.UNKNOWN)).messages == []


@pytest.mark.parametrize(("event", "hours"), [
    ("21:00", 24), ("6,18:10", 12), ("sat 02:55", 168), ("mon..fri 02:30", 72), ("*/15", 0.25), ("weekly", 168),
    ("*-*-01 03:00", 744), ("sun..tue 01:00", 120),
])
def test_the_pack_reads_calendar_events_gaps(event, hours):
    assert longest_gap_hours(event) == hours
