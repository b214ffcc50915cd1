"""Guest restore drills in the plan: one per group whose tier asks for drills, on the tier's cadence after the
drilled copy's backups, each with its own scratch VM id; units carry the drill so the runbook names it."""

from __future__ import annotations

import copy

import pytest

from inventory import load_inventory
from plan import build_plan
from plan.cron import Cron
from plan.stagger import after_backups
from plan.units import DRILL_OFFSET_MINUTES
from tests.proxmox_estate import PROXMOX

TIER2_DRILLED = {"rpo_hours": 24, "offsite_rpo_hours": 24, "local_retention": {"daily": 14, "weekly": 4, "monthly": 3},
                 "offsite_retention": {"daily": 14}, "verify_every_days": 30, "drill_every_days": 7,
                 "alerts": ["out-of-sync"]}


def _plan(estate, drill=None, tiers=None):
    section = copy.deepcopy(PROXMOX)
    if drill is not None:
        section["drill"] = drill
    raw = {**estate, "proxmox": section, **({"tiers": tiers} if tiers else {})}
    plan = build_plan(load_inventory(raw)).proxmox
    assert plan is not None
    return plan


def test_tier_one_guests_get_a_monthly_drill_of_their_first_vzdump_copy(estate):
    plan = _plan(estate, {"token_id": "drill@pve!restore", "storage": "scratch"})
    (drill,) = plan.drills
    infra = next(u for u in plan.units if u.dataset == "infra")
    copy_ = infra.copies[0]
    assert (drill.group, drill.tier, drill.destination, drill.backup_storage) == ("infra", 1, "nas-vzdump",
                                                                                 "truenas-backups")
    assert (drill.node, drill.scratch_vmid, drill.pool, drill.scratch_storage) == ("pve1", 990_000, "hlb-drill",
                                                                                   "scratch")
    assert drill.every_days == 30 and drill.schedule.day_of_month is not None and 2 <= drill.schedule.day_of_month <= 27
    assert drill.schedule.minute_of_day == after_backups(copy_.schedule, DRILL_OFFSET_MINUTES)
    assert drill.slug == f"{copy_.healthcheck_slug}-drill"
    assert drill.selection == (("vmid", "100,101"), ("node", "pve1"))
    assert drill.labels["backup.homelab/verification"] == "drill"
    assert infra.drill is not None and (infra.drill.destination, infra.drill.slug) == ("nas-vzdump", drill.slug)
    assert all(u.drill is None for u in plan.units if u.dataset != "infra")


def test_each_drilled_group_restores_to_its_own_scratch_id_and_weekly_tiers_drill_weekly(estate):
    plan = _plan(estate, {"token_id": "drill@pve!restore", "node": "pve2", "vmid_first": 5000, "vmid_last": 5001},
                 {"2": TIER2_DRILLED})
    by_group = {d.group: d for d in plan.drills}
    assert sorted(by_group) == ["infra", "media-ct"]
    assert {d.scratch_vmid for d in plan.drills} == {5000, 5001}
    media = by_group["media-ct"]
    assert (media.destination, media.backup_storage, media.node) == ("pbs-local", "pbs-tank", "pve2")
    assert media.schedule.weekday is not None and media.every_days == 7


def test_no_drill_section_schedules_no_drill(estate):
    plan = _plan(estate)
    assert plan.drills == () and all(u.drill is None for u in plan.units)


@pytest.mark.parametrize("day", range(3))
def test_drill_times_stay_clear_of_the_backups_they_read(estate, day):
    plan = _plan(estate, {"token_id": "drill@pve!restore"}, {"2": {**TIER2_DRILLED, "drill_every_days": 1 + day}})
    backups = {j.utc.minute_of_day for j in plan.jobs}
    for drill in plan.drills:
        assert drill.schedule.minute_of_day not in backups, drill
        assert isinstance(drill.schedule, Cron)
