"""The runbook of a host dataset: how to bring its files back with restic (or rustic) on any machine."""

from __future__ import annotations

from typing import Any

from inventory.hosts import HostSource
from plan.hosts import host_plan
from plan.units import ProtectionUnit
from runbook.steps import step


def host_steps(unit: ProtectionUnit) -> list[dict[str, str]]:
    """Restore procedure of one host dataset, from the first copy (the local one when there is one)."""
    source = unit.source
    assert isinstance(source, HostSource)
    host = host_plan(unit, pings=False)
    first = host.copies[0]
    env = f"set -a; . {first.environment_file}; set +a; " if first.environment_file else ""
    opener = (f"{env}export RESTIC_REPOSITORY={first.repository} RESTIC_PASSWORD_FILE={first.password_file}"
              + "".join(f" {k}={v}" for k, v in first.environment.items()))
    return [
        step("Open the repository",
              f"Every copy is a restic repository of its own; the first ({first.destination}) is the nearest. On "
              f"{host.hostname} the password and environment files are where the units read them; on another "
              "machine, write them from the escrow (`pulumi stack output --show-secrets host_secret_files`, or the "
              f"`secrets` output's {unit.dataset}.<destination> and the `credentials` output's keys) to the same "
              "paths, or export RESTIC_PASSWORD instead of RESTIC_PASSWORD_FILE.",
              opener + (f"  # mount the NAS export at {first.mount} first" if first.mount else "")),
        step("See what can be restored",
              "Snapshots carry the host name the backups recorded; pick the newest before the mistake.",
              f"restic snapshots --host {host.hostname}"),
        step("Restore into an empty folder, never over the live system",
              "Restoring next to the live files lets you compare and copy back only what you need; --verify reads "
              "every restored file back against the repository.",
              f"restic restore <snapshot id or latest> --host {host.hostname} --target /var/tmp/restore-"
              f"{unit.dataset} --verify"),
        step("Copy back what was lost, then check the services",
              f"The snapshot holds {', '.join(source.paths)} as they were. Stop the services that own the files "
              "before copying them back (rsync -a keeps owners and modes), then start them and check their logs. "
              "Files written by a pre-backup hook (a database dump) restore the same way; load them with the "
              "database's own tool.",
              f"rsync -a /var/tmp/restore-{unit.dataset}/<path>/ <path>/"),
        step("Rebuilding the whole host",
              "Install the distribution (NixOS: from the configuration repository, which also brings back these "
              "backup units), restore the secret files, restore /etc and /var/lib first, then the rest. rustic "
              f"users run the same restore with `rustic -P {first.name} restore <snapshot> <target>`."),
    ]


def host_entry(unit: ProtectionUnit) -> dict[str, Any]:
    """The contract's `host` part: which machine, which units run the copies."""
    source = unit.source
    assert isinstance(source, HostSource)
    host = host_plan(unit, pings=False)
    return {"hostname": source.hostname, "os": source.os, "paths": list(source.paths),
            "units": {c.destination: c.service for c in host.copies}}
