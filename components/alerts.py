"""Prometheus alerting rules for every tier that asks for alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from manifests import alerts
from plan.units import ProtectionUnit
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class AlertsArgs:
    units: Sequence[ProtectionUnit]
    """The protection units whose tier asks for alerts."""
    namespace: str
    """Where the PrometheusRules go (the monitoring namespace)."""
    target: KubernetesTarget
    """Where the objects go (rendered or applied)."""


class BackupAlerts(pulumi.ComponentResource):
    """One PrometheusRule per tier: out of sync, missed runs, never ran, controller absent."""

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:alerts:BackupAlerts", name, None, opts)
        for rule in alerts.prometheus_rules(args.units, args.namespace):
            args.target.declare(rule["metadata"]["name"], rule, parent=self)
        self.register_outputs({})
