"""Failures are heard: each dataset raises the alert kinds its tier asks for (out-of-sync, missed-run, never-ran).

Alerts are PrometheusRule rules labelled `dataset` and `backup_alert` (the kind), or Healthchecks pings from TrueNAS
task scripts and export jobs (a check that stops hearing from a job covers the configured kinds). An export also
counts the alerts of the NAS dataset that carries it offsite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.stack import datasets_with_requirements

META = Meta(
    name="dataset-missing-alerting",
    description="Datasets must raise every alert kind their tier requires.",
    severity=Severity.MEDIUM,
    remediation="Enable monitoring.prometheus_rules (rules labelled dataset and backup_alert), or ping Healthchecks "
                "from the dataset's TrueNAS tasks and export jobs.",
    config_keys=("tiers", "healthchecksMarkers", "healthchecksCovers"),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations listing the alert kinds each dataset lacks."""
    _, pairs = datasets_with_requirements(resources, settings)
    violations = []
    for dataset, needs in pairs:
        missing = [kind for kind in needs.alerts if kind not in dataset.alerts]
        if missing:
            have = ", ".join(sorted(dataset.alerts)) or "none"
            violations.append(Violation(
                f"{dataset.label} raises no {', '.join(missing)} alert (has: {have}); tier {dataset.tier} requires "
                f"{', '.join(needs.alerts)}: enable monitoring.prometheus_rules, or ping Healthchecks from its tasks.",
                dataset.urn))
    return violations


POLICY = stack_policy(META, check)
