"""A host's backup timers keep the start the plan staggered: a fixed random delay shorter than the stagger step.

systemd's `RandomizedDelaySec` spreads hosts that share a calendar event, but a fresh random delay on every run adds
up to that delay to the gap between two backups (the RPO the schedule promised) and can push a start into the next
job's slot on the same destination. `FixedRandomDelay=true` keeps one delay per timer, so the gap stays the interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.hosts import HOST_BACKUP, STAGGER_STEP_SECONDS, host_copies
from .support.policy import Meta, StackResource, Violation, stack_policy
from .support.props import number, truthy

META = Meta(
    name="host-configure-timer-delay",
    description="Host backup timers must use a fixed random delay shorter than the 5-minute stagger step.",
    severity=Severity.MEDIUM,
    remediation="Render the host's timers again from the plan (RandomizedDelaySec below 300 with "
                "FixedRandomDelay=true), or set them so by hand in the host's unit files.",
)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """A violation per host copy whose timer delay breaks the stagger or the schedule's gap."""
    violations = []
    for r in resources:
        if r.type != HOST_BACKUP:
            continue
        for copy in host_copies(r.props):
            delay = number(copy.get("randomized_delay_sec")) or 0
            service = copy.get("service") or copy.get("destination")
            if delay >= STAGGER_STEP_SECONDS:
                violations.append(Violation(
                    f"host dataset {r.name}: {service} waits up to {delay:g} s after its start, past the "
                    f"{STAGGER_STEP_SECONDS} s between staggered starts on {copy.get('destination')}; use less than "
                    f"{STAGGER_STEP_SECONDS}.", r.urn))
            if delay > 0 and truthy(copy.get("fixed_random_delay")) is not True:
                violations.append(Violation(
                    f"host dataset {r.name}: {service} draws a new random delay of up to {delay:g} s every run, "
                    "which adds to the gap between two backups; set FixedRandomDelay=true.", r.urn))
    return violations


POLICY = stack_policy(META, check)
