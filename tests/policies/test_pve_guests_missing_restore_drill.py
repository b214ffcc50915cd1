"""pve-guests-missing-restore-drill: tier 1 guests with the program's monthly drill pass; without one, or with one
too rare, the group is named; tiers without drills and stacks without guests are left alone."""

from __future__ import annotations

from policies.rules import pve_guests_missing_restore_drill as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY
GROUP = "homelab-backups:proxmox:ProtectedGuests"


def job(job_id: str, tier: float) -> dict:
    return {"job_id": job_id, "schedule": "21:00", "storage": "truenas-backups", "vmid": "100,110", "tier": tier,
            "enabled": True, "prune_backups": "keep-daily=30"}


def drill(group: str, schedule: str = "40 3 17 * *") -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": f"{group}-nas-vzdump-drill", "namespace": "monitoring",
                         "labels": {**f.labels(group, 1, "nas-vzdump"), "backup.homelab/verification": "drill"}},
            "spec": {"schedule": schedule}}


def stack(with_drill: bool = True, schedule: str = "40 3 17 * *") -> list[f.Node]:
    infra = f.Node(GROUP, "infra", {})
    lab = f.Node(GROUP, "lab", {})
    nodes = [infra, f.Node(kinds.PVE_BACKUP_JOB, "infra-nas-vzdump-backup", job("hlb-infra-nas-vzdump", 1.0), infra),
             f.Node(kinds.PVE_BACKUP_JOB, "infra-pbs-local-backup", job("hlb-infra-pbs-local", 1.0), infra),
             lab, f.Node(kinds.PVE_BACKUP_JOB, "lab-nas-vzdump-backup", job("hlb-lab-nas-vzdump", 3.0), lab)]
    if with_drill:
        drills = f.Node("homelab-backups:proxmox:GuestDrills", "proxmox-drills", {})
        nodes += [drills, f.Node(kinds.CRONJOB, "proxmox-drills-infra", drill("infra", schedule), drills)]
    return nodes


def test_a_monthly_drill_of_the_tier_one_group_passes():
    assert f.run_stack(POLICY, stack()).messages == []


def test_a_tier_one_group_without_a_drill_is_named_at_its_job():
    nodes = stack(with_drill=False)
    outcome = f.run_stack(POLICY, nodes)
    assert outcome.messages == [
        "guest group 'infra' (tier 1) has no scheduled restore drill; tier 1 needs one at least every 31 days: add "
        "proxmox.drill so the program schedules it."]
    assert outcome.urns == [nodes[1].urn]


def test_a_quarterly_drill_is_too_rare():
    assert f.run_stack(POLICY, stack(schedule="40 3 17 */3 *")).messages == [
        "guest group 'infra': its restore drill runs every 92 days ('40 3 17 */3 *'); tier 1 needs one at least every "
        "31 days: schedule it more often."]


def test_a_drill_labelled_for_another_group_does_not_count():
    nodes = stack()
    nodes[-1].props["metadata"]["labels"]["backup.homelab/dataset"] = "lab"
    (message,) = f.run_stack(POLICY, nodes).messages
    assert message.startswith("guest group 'infra' (tier 1) has no scheduled restore drill")


def test_a_stack_without_guests_is_not_applicable():
    assert f.run_stack(POLICY, f.Estate().nodes).not_applicable
