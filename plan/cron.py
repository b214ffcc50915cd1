"""One schedule, every dialect: the one home of cron formats (design §4, apis §8.1)."""

from __future__ import annotations

from dataclasses import dataclass

DAY_MINUTES = 24 * 60


@dataclass(frozen=True, order=True)
class Cron:
    """A start time that repeats every `every_hours` hours (1..24, dividing 24), weekly or monthly.

    `minute_of_day` is the first start of the day (for weekly jobs, on `weekday`, 0=Sunday; for monthly jobs, on
    `day_of_month`, 1..28 so every month has it).
    """

    minute_of_day: int
    every_hours: int = 24
    weekday: int | None = None
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.minute_of_day < DAY_MINUTES:
            raise ValueError(f"minute_of_day {self.minute_of_day} outside 0..1439")
        if 24 % self.every_hours:
            raise ValueError(f"every_hours {self.every_hours} must divide 24")
        if self.weekday is not None and (self.every_hours != 24 or not 0 <= self.weekday <= 6):
            raise ValueError("weekly schedules run once a day on a weekday 0..6")
        if self.day_of_month is not None and (self.every_hours != 24 or self.weekday is not None
                                              or not 1 <= self.day_of_month <= 28):
            raise ValueError("monthly schedules run once a day on a day of the month 1..28, on any weekday")

    @property
    def minute(self) -> int:
        return self.minute_of_day % 60

    @property
    def first_hour(self) -> int:
        return self.minute_of_day // 60

    @property
    def interval_hours(self) -> int:
        """Longest gap between two runs: the RPO this schedule guarantees."""
        if self.day_of_month is not None:
            return 24 * 31
        return 24 * 7 if self.weekday is not None else self.every_hours

    def hours_field(self) -> str:
        if self.every_hours == 24:
            return str(self.first_hour)
        if self.every_hours == 1:
            return "*"
        start = self.first_hour % self.every_hours
        return ",".join(str(h) for h in range(start, 24, self.every_hours))

    def day_of_week_field(self) -> str:
        return "*" if self.weekday is None else str(self.weekday)

    def day_of_month_field(self) -> str:
        return "*" if self.day_of_month is None else str(self.day_of_month)

    def starts(self) -> list[int]:
        """Minutes of the week (0 = Sunday 00:00) at which the job starts (a monthly job: any weekday)."""
        days = range(7) if self.weekday is None else (self.weekday,)
        first = self.minute_of_day % (self.every_hours * 60)
        return [d * DAY_MINUTES + m for d in days for m in range(first, DAY_MINUTES, self.every_hours * 60)]

    def shifted(self, minutes: int) -> Cron:
        """The same starts on a clock `minutes` ahead (e.g. UTC to a zone's local time); weekly jobs keep their
        instant, so their weekday moves when the shift crosses midnight."""
        total = self.minute_of_day + minutes
        weekday = None if self.weekday is None else (self.weekday + total // DAY_MINUTES) % 7
        day = None if self.day_of_month is None else self.day_of_month + total // DAY_MINUTES
        return Cron(total % DAY_MINUTES, self.every_hours, weekday, day)

    # --- dialects -----------------------------------------------------------------------------

    def five_field(self) -> str:
        """VolSync, KopiaMaintenance, Kubernetes CronJob and Healthchecks: `m h dom mon dow`."""
        return f"{self.minute} {self.hours_field()} {self.day_of_month_field()} * {self.day_of_week_field()}"

    def six_field(self) -> str:
        """CloudNativePG ScheduledBackup (robfig cron with leading seconds)."""
        return f"0 {self.five_field()}"

    def truenas(self) -> dict[str, str]:
        """TrueNAS schedule object; its day of week runs 1 (Monday) .. 7 (Sunday)."""
        dow = "*" if self.weekday is None else str(self.weekday or 7)
        return {"minute": str(self.minute), "hour": self.hours_field(), "dom": self.day_of_month_field(),
                "month": "*", "dow": dow}

    def human(self) -> str:
        """Words for runbooks: `every 6 hours from 01:05`, `daily at 02:30`, `weekly on Sunday at 03:00`."""
        at = f"{self.first_hour:02d}:{self.minute:02d}"
        if self.day_of_month is not None:
            return f"monthly on day {self.day_of_month} at {at}"
        if self.weekday is not None:
            return f"weekly on {WEEKDAYS[self.weekday]} at {at}"
        if self.every_hours == 24:
            return f"daily at {at}"
        if self.every_hours == 1:
            return f"hourly at minute {self.minute}"
        return f"every {self.every_hours} hours from {(self.first_hour % self.every_hours):02d}:{self.minute:02d}"


WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def cadence_for(max_interval_hours: int) -> tuple[int, bool]:
    """The slowest cadence that still meets an RPO: (every_hours, weekly)."""
    if max_interval_hours >= 24 * 7:
        return 24, True
    if max_interval_hours >= 24:
        return 24, False
    return max(h for h in (1, 2, 3, 4, 6, 8, 12) if h <= max_interval_hours), False
