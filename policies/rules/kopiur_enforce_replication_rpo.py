"""A Kopiur replica is only as fresh as its replication: it must run at least as often as the tier's offsite RPO.

With `offsite_by: replication` a dataset's offsite copies are replicas of its NAS repository. Each replica is a copy
on another medium whose recovery point is the last RepositoryReplication run, so that cron's longest gap is the
offsite copy's RPO (`maxOffsiteRpoHours` per tier).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.cron import describe
from .support.estate import timed_cron
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import fmt, get
from .support.stack import datasets_with_requirements

META = Meta(
    name="kopiur-enforce-replication-rpo",
    description="Kopiur repository replications must run at least as often as the tier's offsite RPO.",
    severity=Severity.HIGH,
    remediation="Schedule the RepositoryReplication at least every maxOffsiteRpoHours of the dataset's tier (the "
                "plan uses the tier's offsite cadence, e.g. daily for tier 1).",
    config_keys=("tiers",),
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for replications whose longest gap exceeds the tier's offsite RPO."""
    if not any(r.type == kinds.KOPIUR_REPLICATION for r in resources):
        raise NotApplicable("the stack declares no Kopiur repository replication")
    estate, pairs = datasets_with_requirements(resources, settings)
    needs_of = {dataset.name: needs for dataset, needs in pairs}
    violations = []
    for r in resources:
        if r.type != kinds.KOPIUR_REPLICATION:
            continue
        dataset = estate.dataset_of(r)
        needs = needs_of.get(dataset.name) if dataset is not None else None
        if dataset is None or needs is None or needs.max_offsite_rpo_hours is None:
            continue
        timed = timed_cron(get(r.props, "spec", "schedule", "cron"), r.urn, f"RepositoryReplication {r.name}")
        if timed is None or timed.gap_hours is None:
            continue
        limit = needs.max_offsite_rpo_hours
        if timed.gap_hours > limit + 1e-9:
            violations.append(Violation(
                f"{dataset.label}: RepositoryReplication {r.name} copies the NAS repository offsite every "
                f"{describe(timed.gap_hours)} ({timed.text!r}), so that replica can be that old; tier {dataset.tier} "
                f"allows offsite copies at most {fmt(limit)} h old: replicate at least every {fmt(limit)} h.", r.urn))
    return violations


POLICY = stack_policy(META, check)
