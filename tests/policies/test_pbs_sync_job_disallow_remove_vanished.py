"""pbs-sync-job-disallow-remove-vanished: a sync keeping vanished snapshots passes; one removing them is named."""

from __future__ import annotations

from policies.rules import pbs_sync_job_disallow_remove_vanished as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def sync(**changes):
    return {"job_id": "hlb-pbs-offsite", "store": "offsite-s3", "remote_store": "tank", "schedule": "11:15",
            "remove_vanished": False} | changes


def test_compliant_sync_passes():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_JOB, sync()).messages == []


def test_remove_vanished_is_refused():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_JOB, sync(remove_vanished=True)).messages == [
        "PBS sync job 'hlb-pbs-offsite' into 'offsite-s3' removes snapshots that vanished from the source, so a "
        "deletion there (a prune, a mistake, an attacker) reaches the offsite copy at the next sync; set "
        "remove_vanished: false."]
