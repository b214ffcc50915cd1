"""pve-backup-job-missing-tier: a tiered job passes; an untiered `all` selector, pool or id list is named."""

from __future__ import annotations

from policies.rules import pve_backup_job_missing_tier as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def job(**changes):
    return {"job_id": "hlb-lab-nas-vzdump", "schedule": "sat 02:55", "storage": "truenas-backups", "all": True,
            "exclude": "100,110", "prune_backups": "keep-daily=7", "enabled": True, "tier": 3.0} | changes


def test_compliant_job_passes():
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, job()).messages == []


def test_untiered_all_selector_is_refused():
    props = job()
    del props["tier"]
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, props).messages == [
        "PVE backup job 'hlb-lab-nas-vzdump' selects all guests except 100,110 with no tier; a guest selector needs "
        "one of tiers 1, 2, 3: set it on the guest group."]


def test_unknown_tier_on_a_pool_selector_is_refused():
    props = job(all=False, exclude=None, pool="media", tier=4.0)
    assert f.run_resource(POLICY, kinds.PVE_BACKUP_JOB, props).messages == [
        "PVE backup job 'hlb-lab-nas-vzdump' selects pool 'media' with tier 4; a guest selector needs one of tiers "
        "1, 2, 3: set it on the guest group."]


def test_other_types_are_not_applicable():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_JOB, {}).not_applicable
