"""A host dataset: a repository password per copy (escrowed), and the files the host runs its backups with.

Nothing is created on the host: the rendered files (NixOS snippet, systemd units, environment templates, rustic
profiles) are a plain output for the owner to place, and the filled secret files (password and environment file per
copy) a secret output for agenix or sops to encrypt. The component's outputs also carry each copy's schedule,
retention and verification, which the policy pack judges like any other copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.healthchecks import PingBase
from manifests import hosts
from plan.hosts import RANDOMIZED_DELAY_SECONDS, HostPlan, host_plan
from plan.names import labels
from plan.units import ProtectionUnit
from providers.generated import GeneratedSecret

TYPE = "homelab-backups:hosts:HostBackup"


@dataclass(frozen=True)
class HostArgs:
    unit: ProtectionUnit
    """The host dataset's protection unit: copies with their times and retention, the drilled copy."""
    credentials: Mapping[str, pulumi.Output] = field(default_factory=dict)
    """Per S3 destination: secret Output of {access_key_id, secret_access_key} scoped to this writer."""
    healthchecks: PingBase | None = None
    """Where the units report; None: no pings."""


def copy_facts(host: HostPlan) -> list[dict[str, Any]]:
    """What the pack reads of each copy: where it goes, when it runs, what it keeps and how it is verified."""
    facts = []
    for copy in host.copies:
        plan = copy.copy
        facts.append({
            "destination": copy.destination, "kind": plan.kind, "offsite": plan.offsite, "media": plan.media,
            "bucket": plan.bucket or None, "repository": copy.repository, "service": copy.service,
            "on_calendar": copy.on_calendar, "schedule": plan.schedule.five_field(),
            "randomized_delay_sec": RANDOMIZED_DELAY_SECONDS, "fixed_random_delay": True,
            "keep": plan.retention.levels(), "prune_opts": list(copy.prune_opts),
            "check_opts": list(copy.check_opts) if copy.check_opts is not None else None,
            "password_file": copy.password_file, "environment_file": copy.environment_file,
            "ping": copy.slug is not None, "labels": labels(host.dataset, host.tier, copy.destination)})
    return facts


class HostBackup(pulumi.ComponentResource):
    """The restic repositories of one host dataset and the files that run them on the host."""

    files: pulumi.Output[dict]
    """Relative path -> content of every file the host needs (no secret value in any of them)."""
    secret_files: pulumi.Output[dict]
    """Secret: path on the host -> content of each password and environment file, for agenix or sops."""
    repository_passwords: pulumi.Output[dict]
    """Secret: destination -> repository password, for escrow."""

    def __init__(self, name: str, args: HostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        host = host_plan(args.unit, pings=args.healthchecks is not None)
        passwords: dict[str, pulumi.Output[str]] = {}
        for copy in host.copies:
            # Protected: losing the password makes every snapshot in the repository unreadable.
            password = GeneratedSecret(f"{name}-{copy.destination}-password",
                                       opts=pulumi.ResourceOptions(parent=self, protect=True))
            passwords[copy.destination] = password.value
        self.repository_passwords = pulumi.Output.secret(passwords)
        self.files = pulumi.Output.from_input(hosts.host_files(host))
        ping = args.healthchecks.base_url() if args.healthchecks is not None else None
        self.secret_files = pulumi.Output.secret(pulumi.Output.all(
            passwords=passwords, credentials=dict(args.credentials), ping=ping,
        ).apply(lambda v: hosts.secret_files(host, v["passwords"], v["credentials"], v["ping"])))
        drill = host.drill
        self.register_outputs({
            "files": self.files,
            "secret_files": self.secret_files,
            "repository_passwords": self.repository_passwords,
            "hostname": host.hostname,
            "os": host.source.os,
            "labels": labels(host.dataset, host.tier),
            "copies": copy_facts(host),
            "drill": None if drill is None else {
                "destination": drill.destination, "service": drill.service, "on_calendar": drill.on_calendar,
                "schedule": args.unit.drill.schedule.five_field() if args.unit.drill else None,
                "ping": drill.slug is not None},
        })
