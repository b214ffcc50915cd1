"""What a host runs for each copy of a host dataset: decided once here, rendered by manifests/hosts.py.

A host copy is one restic repository (per host dataset and destination) written by one systemd service and timer,
named as NixOS's `services.restic.backups.<name>` names them (`restic-backups-<name>.service`), so the NixOS snippet,
the plain systemd units, the rustic profile and the runbook all speak of the same unit. Every time comes from the
plan's staggered copy schedule; retention from the tier; checks from the verification cadence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inventory.hosts import HostSource
from plan.cron import WEEKDAYS, Cron
from plan.model import CopyPlan
from plan.repositories import CHECKSUM_ENV, repository_dir
from plan.units import ProtectionUnit

RANDOMIZED_DELAY_SECONDS = 240
"""The timer's random start delay: below the 5-minute stagger step (plan/stagger.py), so a host's start stays in its
slot. With `FixedRandomDelay=true` each timer keeps the same delay every run, so the gap between two backups stays
the plan's interval and the RPO holds."""
PASSWORD_FIELD = "repository_password"
"""Escrow field of each copy's repository password."""
ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
"""Variables of the environment file of an S3 copy (the writer's scoped key)."""
PING_VARIABLE = "HLB_PING_URL"
"""The environment-file variable holding the copy's Healthchecks ping URL (it carries the project ping key)."""
RESTIC = "/usr/bin/restic"
"""restic on Debian and most distributions (NixOS's module uses its own package path)."""
SYSTEMD_UNIT_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class HostCopy:
    """One repository of a host dataset and the service that writes it."""

    destination: str
    name: str
    """`<dataset>-<destination>`: the NixOS `services.restic.backups` attribute and the units' stem."""
    service: str
    """`restic-backups-<name>.service` (the NixOS module's unit name, kept for plain systemd too)."""
    timer: str
    repository: str
    """What restic opens: `s3:<endpoint>/<bucket>/<path>`, or a directory under the NAS export's mount."""
    mount: str | None
    """NFS copies: where the host mounts the export (`/mnt/<destination>`); the service requires it."""
    password_file: str
    environment_file: str | None
    """The file holding the copy's secret variables (`secret_variables`); None when it has none."""
    secret_variables: tuple[str, ...]
    environment: dict[str, str]
    """Plain variables (region, checksum switches)."""
    on_calendar: str
    """systemd calendar event of the plan's schedule, in UTC."""
    prune_opts: tuple[str, ...]
    """`forget --prune` options from the copy's retention, one option and value per entry (NixOS `pruneOpts`)."""
    check_opts: tuple[str, ...] | None
    """`check` options after each backup (NixOS `runCheck`/`checkOpts`); None: the tier asks for no checks."""
    slug: str | None
    """The Healthchecks check the service pings; None without Healthchecks."""
    copy: CopyPlan


@dataclass(frozen=True)
class HostDrill:
    """The scheduled restore drill of a host dataset: restore the newest snapshot of one copy into scratch space."""

    destination: str
    service: str
    timer: str
    on_calendar: str
    scratch: str
    """Where the drill restores (a private /var/tmp: systemd removes it when the service stops)."""
    slug: str | None


@dataclass(frozen=True)
class HostPlan:
    """Everything rendered for one host dataset."""

    dataset: str
    tier: int
    source: HostSource
    copies: tuple[HostCopy, ...]
    drill: HostDrill | None
    extra_args: tuple[str, ...]
    """Options of every `restic backup` beyond paths and excludes: the host name, the file-system boundary (NixOS
    `extraBackupArgs`)."""

    @property
    def backup_args(self) -> tuple[str, ...]:
        """Every option of `restic backup` before the paths: `extra_args`, then one `--exclude` per pattern."""
        return self.extra_args + tuple(a for pattern in self.source.exclude for a in ("--exclude", pattern))

    @property
    def hostname(self) -> str:
        """The host the files come from."""
        return self.source.hostname


def on_calendar(cron: Cron) -> str:
    """A plan schedule as a systemd calendar event (`OnCalendar=`), in UTC like every schedule the plan emits."""
    at = f"{cron.minute:02d}:00"
    if cron.day_of_month is not None:
        return f"*-*-{cron.day_of_month:02d} {cron.first_hour:02d}:{at} UTC"
    if cron.weekday is not None:
        return f"{WEEKDAYS[cron.weekday][:3]} *-*-* {cron.first_hour:02d}:{at} UTC"
    hours = ",".join(f"{int(h):02d}" for h in cron.hours_field().split(",")) if cron.every_hours != 1 else "*"
    return f"*-*-* {hours}:{at} UTC"


def prune_opts(copy: CopyPlan) -> tuple[str, ...]:
    """The copy's retention as restic `forget` options, finest level first."""
    return tuple(f"--keep-{level} {count}" for level, count in copy.retention.levels().items())


def check_opts(copy: CopyPlan, verify_every_days: int) -> tuple[str, ...] | None:
    """`check` after each backup reading a random share of the data, so one verification period reads it all (in
    expectation): the verification cadence spread over the backups it spans."""
    if verify_every_days < 1:
        return None
    runs = max(1, verify_every_days * 24 // copy.schedule.interval_hours)
    return (f"--read-data-subset={max(1, math.ceil(100 / runs))}%",)


def host_plan(unit: ProtectionUnit, pings: bool) -> HostPlan:
    """The host files' facts for one host unit; `pings`: the estate reports to Healthchecks."""
    source = unit.source
    if not isinstance(source, HostSource):
        raise ValueError(f"{unit.dataset}: not a host dataset ({unit.kind})")
    secrets = source.secrets.path(source.os)
    copies = []
    for copy in unit.copies:
        name = f"{unit.dataset}-{copy.destination}"
        nfs = copy.kind == "nfs"
        variables = (() if nfs else ENV_KEYS) + ((PING_VARIABLE,) if pings else ())
        environment = {} if nfs else {"AWS_DEFAULT_REGION": copy.region, **(CHECKSUM_ENV if copy.checksum_env else {})}
        copies.append(HostCopy(
            destination=copy.destination, name=name, service=f"restic-backups-{name}.service",
            timer=f"restic-backups-{name}.timer",
            repository=repository_dir(copy) if nfs else f"s3:{copy.endpoint}/{copy.bucket}/{copy.repository}",
            mount=f"/mnt/{copy.destination}" if nfs else None,
            password_file=f"{secrets}/restic-{name}.password",
            environment_file=f"{secrets}/restic-{name}.env" if variables else None,
            secret_variables=variables, environment=dict(sorted(environment.items())),
            on_calendar=on_calendar(copy.schedule), prune_opts=prune_opts(copy),
            check_opts=check_opts(copy, unit.plan.verify_every_days),
            slug=copy.healthcheck_slug if pings else None, copy=copy))
    drill = None
    if unit.drill is not None:
        drilled = f"{unit.dataset}-{unit.drill.destination}"
        drill = HostDrill(
            destination=unit.drill.destination, service=f"restic-drill-{drilled}.service",
            timer=f"restic-drill-{drilled}.timer", on_calendar=on_calendar(unit.drill.schedule),
            scratch=f"/var/tmp/hlb-drill-{drilled}", slug=unit.drill.slug if pings else None)
    args = ("--host", source.hostname) + (("--one-file-system",) if source.one_file_system else ())
    return HostPlan(unit.dataset, unit.tier, source, tuple(copies), drill, args)
