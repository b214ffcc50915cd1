"""plan/hosts.py: each host copy's unit names, repository, secret file paths, calendar, retention and checks, all
from the plan; the calendar events are read back by systemd's own parser (`systemd-analyze calendar`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime

import pytest

from plan.cron import Cron
from plan.hosts import check_opts, host_plan, on_calendar, prune_opts
from tests.components.harness import stack_plan

needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze missing: scripts/services.sh install adds systemd")


@pytest.fixture(scope="module")
def hosts():
    plan = stack_plan("hosts")
    return {u.dataset: (u, host_plan(u, pings=True)) for u in plan.units if u.kind == "host"}


def elapses(event: str, count: int) -> list[datetime]:
    """The next `count` starts systemd computes for a calendar event."""
    out = subprocess.run(["systemd-analyze", "calendar", f"--iterations={count}", event], check=True,
                         capture_output=True, text=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}).stdout
    found = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", out)
    assert len(found) == count, out
    return [datetime.strptime(f, "%Y-%m-%d %H:%M:%S") for f in found]


@needs_systemd
@pytest.mark.parametrize("cron", [Cron(105), Cron(45 + 60, every_hours=12), Cron(5, every_hours=6),
                                  Cron(30, every_hours=1), Cron(180, weekday=0), Cron(850, day_of_month=19)],
                         ids=str)
def test_calendar_events_start_exactly_when_the_cron_does(cron: Cron) -> None:
    starts = set(cron.starts())
    for moment in elapses(on_calendar(cron), 30):
        minute_of_week = ((moment.isoweekday() % 7) * 24 + moment.hour) * 60 + moment.minute
        assert minute_of_week in starts, (on_calendar(cron), moment)
        if cron.day_of_month is not None:
            assert moment.day == cron.day_of_month


def test_names_paths_and_secret_files_per_copy(hosts) -> None:
    unit, atlas = hosts["atlas"]
    assert [c.destination for c in atlas.copies] == [c.destination for c in unit.copies] == ["nas", "site2", "b2"]
    nas, site2, b2 = atlas.copies
    assert nas.service == "restic-backups-atlas-nas.service" and nas.timer == "restic-backups-atlas-nas.timer"
    assert nas.repository == "/mnt/nas/hlb-nas-tier1/hosts/atlas/atlas" and nas.mount == "/mnt/nas"
    assert b2.repository == "s3:https://s3.us-east-005.backblazeb2.com/hlb-b2-tier1/hosts/atlas/atlas"
    assert b2.password_file == "/run/agenix/restic-atlas-b2.password"
    assert b2.environment_file == "/run/agenix/restic-atlas-b2.env"
    assert b2.secret_variables == ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "HLB_PING_URL")
    assert nas.secret_variables == ("HLB_PING_URL",) and nas.environment == {}
    assert site2.environment["AWS_DEFAULT_REGION"] == "us-east-1"
    assert atlas.backup_args[:3] == ("--host", "atlas", "--one-file-system")
    _, pebble = hosts["pebble"]
    assert pebble.copies[0].password_file == "/run/secrets/restic-pebble-nas.password"
    assert host_plan(unit, pings=False).copies[0].environment_file is None, "an NFS copy without pings has no secret"


def test_retention_checks_and_drill_follow_the_tier(hosts) -> None:
    unit, atlas = hosts["atlas"]
    for copy, planned in zip(atlas.copies, unit.copies, strict=True):
        assert copy.prune_opts == tuple(f"--keep-{k} {v}" for k, v in planned.retention.levels().items())
        assert copy.on_calendar == on_calendar(planned.schedule)
        # Tier 1 checks weekly: a share of the data per backup, the whole over the week.
        runs = 7 * 24 // planned.schedule.interval_hours
        share = int(copy.check_opts[0].removeprefix("--read-data-subset=").removesuffix("%"))
        assert share * runs >= 100 and (share - 1) * runs < 100, copy.check_opts
    assert atlas.drill is not None and atlas.drill.destination == unit.drill.destination
    assert atlas.drill.on_calendar == on_calendar(unit.drill.schedule)
    _, pebble = hosts["pebble"]
    assert pebble.drill is None, "tier 2 has no scheduled drill"
    assert prune_opts(unit.copies[0]) == ("--keep-hourly 48", "--keep-daily 30", "--keep-monthly 6")
    assert check_opts(unit.copies[0], 0) is None


def test_only_host_units(hosts) -> None:
    plan = stack_plan("prod")
    with pytest.raises(ValueError, match="not a host dataset"):
        host_plan(plan.units[0], pings=False)
