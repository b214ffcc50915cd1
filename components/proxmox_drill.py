"""The scheduled guest restore drills: the drill token's Secret, the drills' Healthchecks Secret and one CronJob per
drilled guest group (manifests/proxmox_drill.py), in the monitoring namespace."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.healthchecks import PingBase
from components.proxmox import declare_ca_config_map
from manifests import proxmox_drill as drill_manifests
from manifests.healthchecks import PING_KEY
from plan.proxmox_drill import GuestDrillPlan
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class GuestDrillsArgs:
    namespace: str
    """Where the CronJobs run (the monitoring namespace)."""
    drills: tuple[GuestDrillPlan, ...]
    """One per drilled guest group, from the plan."""
    api_url: str
    token_id: str
    """The drill's own token (scratch pool and storage only; inventory/proxmox_drill.py)."""
    token_secret: pulumi.Output
    """Secret Output of its secret."""
    ping: PingBase | None
    """Healthchecks, when configured; the drills then report /start, success and /fail."""
    target: KubernetesTarget
    ca_bundle: str | None = None
    """`proxmox.ca_file`'s PEM bundle, mounted so curl trusts the API as the program's provider does."""
    verify_tls: bool = True


class GuestDrills(pulumi.ComponentResource):
    """Every guest group's scheduled restore drill."""

    cronjobs: pulumi.Output[list[str]]
    """The drills' CronJob names."""

    def __init__(self, name: str, args: GuestDrillsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:proxmox:GuestDrills", name, None, opts)
        ns = args.namespace
        args.target.declare_secret(f"{name}-token", drill_manifests.token_secret(ns),
                                   {drill_manifests.TOKEN_SECRET.name: args.token_secret}, self)
        if args.ping is not None:
            args.target.declare_secret(f"{name}-healthchecks",
                                       drill_manifests.ping_secret(ns, args.ping.endpoint, args.drills),
                                       {PING_KEY.name: args.ping.key}, self)
        ca_config_map = declare_ca_config_map(args.target, ns, args.ca_bundle, self)
        for drill in args.drills:
            args.target.declare(f"{name}-{drill.group}", drill_manifests.drill_cronjob(
                ns, drill, args.api_url, args.token_id, args.ping is not None, ca_config_map, args.verify_tls), self)
        self.cronjobs = pulumi.Output.from_input([d.name for d in args.drills])
        self.register_outputs({"cronjobs": self.cronjobs})
