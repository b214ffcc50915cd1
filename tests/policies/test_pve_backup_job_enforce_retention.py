"""pve-backup-job-enforce-retention: the tier's local retention or more passes; a missing or shorter prune-backups is
named with the levels that fall short."""

from __future__ import annotations

from policies.rules import pve_backup_job_enforce_retention as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def job(**changes):
    return {"job_id": "hlb-apps-nas-vzdump", "schedule": "21:00", "storage": "truenas-backups",
            "vmid": "200,201", "prune_backups": "keep-daily=14,keep-weekly=4,keep-monthly=3", "tier": 2.0} | changes


def test_compliant_job_passes():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job()).messages == []


def test_keep_all_passes():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(prune_backups="keep-all=1")).messages == []


def test_short_retention_names_the_levels():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(prune_backups="keep-last=3")).messages == [
        "PVE backup job 'hlb-apps-nas-vzdump' prunes to 'keep-last=3', below tier 2's local retention "
        "(keep-daily=0 < 7); keep at least keep-daily=7."]


def test_tier_1_hourly_and_monthly_levels():
    (message,) = f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(
        tier=1.0, prune_backups="keep-hourly=12,keep-daily=30")).messages
    assert "(keep-hourly=12 < 24; keep-monthly=0 < 3)" in message


def test_missing_prune_backups_leaves_it_to_the_storage():
    props = job()
    del props["prune_backups"]
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, props).messages == [
        "PVE backup job 'hlb-apps-nas-vzdump' sets no prune_backups, so the storage's own setting decides what is "
        "kept; tier 2 keeps at least keep-daily=7: set it on the job."]


def test_unknown_prune_backups_and_untiered_jobs_are_not_applicable():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(prune_backups=f.UNKNOWN)).not_applicable
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job(tier=None)).not_applicable
