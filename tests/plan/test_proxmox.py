"""Guests as protection units: PVE jobs at staggered times in the nodes' zone, prune-backups from the tier, the PBS
sync an hour after the backups it copies, and the calendar-event parser the inventory checks schedules with."""

from __future__ import annotations

import copy
import shutil
import subprocess

import pytest

from inventory import load_inventory
from inventory.tiers import Retention
from plan import build_plan
from plan.cron import Cron
from plan.proxmox import calendar_event, calendar_interval_hours, calendar_problem, prune_backups
from tests.proxmox_estate import PROXMOX


@pytest.fixture
def pve_plan(estate):
    inv = load_inventory({**estate, "proxmox": copy.deepcopy(PROXMOX)})
    plan = build_plan(inv).proxmox
    assert plan is not None
    return plan


@pytest.mark.parametrize(("event", "hours"), [
    ("21:00", 24), ("6,18:10", 12), ("sat 04:25", 168), ("mon..fri 02:30", 72), ("*/15", 1), ("0/6:00", 6),
    ("daily", 24), ("weekly", 168), ("*-*-01 03:00", 744), ("sat,sun 8..17/3:5", 135),
])
def test_calendar_events_pve_accepts_and_their_longest_gap(event, hours):
    assert calendar_problem(event) is None
    assert calendar_interval_hours(event) == hours


@pytest.mark.parametrize(("event", "why"), [
    ("", "expected [WEEKDAY] [[YEAR-]MONTH-DAY] [HOUR:MINUTE]"),
    ("24:00", "hour '24' is outside 0..23"),
    ("mon..fry 01:00", "weekday 'mon..fry' is not one of mon, tue, wed, thu, fri, sat, sun (or a range like mon..fri)"),
    ("*/0", "minute repetition '*/0' needs a whole step above 0 after '/'"),
    ("01:00 02:00", "two times ('01:00' and '02:00')"),
    ("*-13-01", "month '13' is outside 1..12"),
])
def test_calendar_events_pve_refuses_say_why(event, why):
    assert calendar_problem(event) == why


def test_plan_schedules_become_calendar_events_on_the_node_clock():
    assert calendar_event(Cron(125)) == "02:05"
    assert calendar_event(Cron(310, 12)) == "5,17:10"
    assert calendar_event(Cron(205, 24, weekday=0)) == "sun 03:25"
    assert calendar_event(Cron(60, 24, day_of_month=3)) == "*-*-03 01:00"
    assert calendar_interval_hours(calendar_event(Cron(310, 8))) == 8


def test_prune_backups_from_tier_retention():
    assert prune_backups(Retention(hourly=48, daily=30, monthly=6)) == "keep-hourly=48,keep-daily=30,keep-monthly=6"
    assert prune_backups(Retention(daily=14, weekly=4, monthly=3)) == "keep-daily=14,keep-weekly=4,keep-monthly=3"


def test_one_pve_job_per_group_and_vzdump_destination(pve_plan):
    jobs = {j.id: j for j in pve_plan.jobs}
    assert sorted(jobs) == ["hlb-infra-nas-vzdump", "hlb-infra-pbs-local", "hlb-lab-nas-vzdump",
                            "hlb-media-ct-pbs-local"]
    infra = jobs["hlb-infra-nas-vzdump"]
    assert (infra.storage, infra.selection, infra.mode, infra.compress) == (
        "truenas-backups", (("vmid", "100,101"), ("node", "pve1")), "snapshot", "zstd")
    assert infra.prune_backups == "keep-hourly=48,keep-daily=30,keep-monthly=6"
    assert jobs["hlb-lab-nas-vzdump"].selection == (("all", 1), ("exclude", "100,101,200"))
    assert jobs["hlb-lab-nas-vzdump"].prune_backups == "keep-daily=7"


def test_staggered_times_are_written_in_the_nodes_zone(pve_plan):
    """Europe/Berlin: standard time is UTC+1, so each calendar event is the UTC start plus an hour."""
    assert pve_plan.node_utc_offset_minutes == 60
    for job in pve_plan.jobs:
        if job.group != "media-ct":
            assert job.schedule == calendar_event(job.utc.shifted(60)), job.id
            assert calendar_interval_hours(job.schedule) == job.utc.interval_hours, job.id


def test_a_fixed_schedule_is_kept_as_written(pve_plan):
    (job,) = [j for j in pve_plan.jobs if j.group == "media-ct"]
    assert (job.schedule, job.utc) == ("21:00", Cron(20 * 60))


def test_the_offsite_sync_runs_an_hour_after_the_first_backup_it_copies(pve_plan):
    (sync,) = pve_plan.syncs
    first = min(j.utc.minute_of_day for j in pve_plan.jobs if j.destination == "pbs-local")
    # The datastore is on the remote PBS `hetzner`: proxmox.pbs pushes its own `tank` there.
    assert (sync.store, sync.remote_store, sync.remote, sync.direction) == ("tank", "offsite", "hetzner", "push")
    assert sync.utc == Cron(first + 60)


def test_guests_count_toward_3_2_1_as_units(pve_plan):
    infra = next(u for u in pve_plan.units if u.dataset == "infra")
    assert (infra.kind, infra.tool, infra.tier) == ("proxmox", "vzdump", 1)
    assert infra.plan.copy_count == 4 and infra.plan.offsite_count == 1
    assert infra.plan.media == ("backup-server", "host-disk", "nas-disk", "object-storage")
    assert [c.retention for c in infra.copies][-1] == Retention(daily=30, monthly=12)
    assert infra.plan.rpo_hours == 12
    assert infra.objects[0].backup_slug == "backup-infra-nas-vzdump"


def test_pbs_datastores_get_gc_verify_and_only_synced_ones_a_prune_job(pve_plan):
    by_store = {d.datastore: d for d in pve_plan.datastores}
    local, offsite = by_store["tank"], by_store["offsite"]
    assert local.prune_id is None
    assert (offsite.prune_id, offsite.prune) == ("hlb-pbs-offsite", Retention(daily=30, monthly=12))
    assert (local.outdated_after_days, offsite.outdated_after_days) == (7, 7)
    assert calendar_interval_hours(offsite.verify_schedule) == 168
    assert calendar_interval_hours(offsite.gc_schedule) == 24


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("event", ["21:00", "6,18:10", "sat 04:25", "mon..fri 02:30", "0/6:00", "daily", "weekly",
                                   "*-*-01 03:00", "sat,sun 8..17/3:5", "24:00", "mon..fry 01:00", "*/0",
                                   "01:00 02:00", "*-13-01", "21:00 mon", "daily at 9", "mon..fri 02:60"])
def test_the_parser_agrees_with_systemd(event):
    """PVE's calendar events are a subset of systemd's (the bare minute form `*/5` is PVE's own): an independent
    parser must give the same verdict."""
    systemd = subprocess.run(["systemd-analyze", "calendar", event], capture_output=True, check=False)
    assert (calendar_problem(event) is None) == (systemd.returncode == 0), systemd.stderr
