"""Every Kopiur SnapshotPolicy is run by a SnapshotSchedule on a 5-field cron, and every replication has one.

A SnapshotPolicy only says what a snapshot takes and keeps; nothing snapshots until a SnapshotSchedule names it in
`policyRef` (or someone creates Snapshot objects by hand). The schedule's cron is what meets the tier's RPO.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.cron import CronError, field_count, parse_cron
from .support.policy import Meta, NotApplicable, StackResource, Violation, stack_policy
from .support.props import get, is_unknown
from .support.text import k8s_title, protects

META = Meta(
    name="kopiur-missing-schedule",
    description="Kopiur snapshot policies and replications must run on a 5-field cron schedule.",
    severity=Severity.MEDIUM,
    remediation="Add a SnapshotSchedule whose spec.policyRef.name names the policy, with spec.schedule.cron a "
                "5-field cron meeting the tier's RPO, e.g. '15 */6 * * *'.",
)


def _cron_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"has schedule {value!r}, which is not a cron string"
    try:
        parse_cron(value)
    except CronError as exc:
        hint = f" (drop the leading seconds field: {' '.join(value.split()[1:])!r})" if field_count(value) == 6 else ""
        return f"schedule {value!r} is not a 5-field cron: {exc}{hint}"
    return None


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """Violations for policies no schedule runs, and for schedules or replications Kopiur cannot read."""
    policies = [r for r in resources if r.type == kinds.KOPIUR_POLICY]
    timed = [r for r in resources if r.type in (kinds.KOPIUR_SCHEDULE, kinds.KOPIUR_REPLICATION)]
    if not policies and not timed:
        raise NotApplicable("the stack declares no Kopiur snapshot policy or replication")
    run: set[tuple[Any, Any]] = set()
    violations = []
    for r in timed:
        cron = get(r.props, "spec", "schedule", "cron")
        if r.type == kinds.KOPIUR_SCHEDULE:
            ref = get(r.props, "spec", "policyRef", "name")
            namespace = get(r.props, "spec", "policyRef", "namespace") or get(r.props, "metadata", "namespace")
            run.add((namespace, ref))
        if cron is None or is_unknown(cron):
            continue
        problem = _cron_problem(cron)
        if problem:
            violations.append(Violation(f"{k8s_title(r.props, r.name)}{protects(r.props)} {problem}; use e.g. "
                                        "'15 */6 * * *'.", r.urn))
    for policy in policies:
        key = (get(policy.props, "metadata", "namespace"), get(policy.props, "metadata", "name", default=policy.name))
        if any(is_unknown(part) for part in key) or key in run:
            continue
        violations.append(Violation(
            f"{k8s_title(policy.props, policy.name)}{protects(policy.props)} is run by no SnapshotSchedule, so no "
            f"snapshot is ever taken; add a SnapshotSchedule with spec.policyRef.name {key[1]!r} and a 5-field cron "
            "meeting the tier's RPO.", policy.urn))
    return violations


POLICY = stack_policy(META, check)
