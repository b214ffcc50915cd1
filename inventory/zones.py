"""Time zones in the inventory: real IANA zones, and a window that holds a start in both DST seasons."""

from __future__ import annotations

from inventory.models import Inventory, Location
from plan.stagger import SLOT_MINUTES
from plan.zones import dst_shift, is_zone


def zone_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Unknown zones, and windows too short once daylight saving moves UTC-scheduled jobs."""
    problems: list[tuple[Location, str]] = []
    zone = inv.schedule.timezone
    if not is_zone(zone):
        problems.append((("schedule", "timezone"), _unknown(zone)))
    nas_zone = inv.truenas.timezone if inv.truenas else None
    if nas_zone is not None and not is_zone(nas_zone):
        problems.append((("truenas", "timezone"), _unknown(nas_zone)))
    if problems:
        return problems
    window = inv.schedule.maintenance_window
    start, end = window.minutes()
    shift = dst_shift(zone)
    if end - start - shift < SLOT_MINUTES:
        need = shift + SLOT_MINUTES
        problems.append((("schedule", "maintenance_window"),
                         f"{window.start}-{window.end} in {zone} is {end - start} minutes, but controllers read cron "
                         f"in UTC and daylight saving moves a UTC time by {shift} minutes on the local clock; widen "
                         f"the window to at least {need} minutes (e.g. end at "
                         f"{(start + need) // 60 % 24:02d}:{(start + need) % 60:02d})"))
    return problems


def _unknown(zone: str) -> str:
    return (f"{zone!r} is not an IANA time zone; use a name such as `Europe/Berlin`, `America/New_York` or `UTC` "
            "(`timedatectl list-timezones` lists them)")
