"""host-configure-timer-delay: the rendered timers pass; a delay past the stagger step or drawn anew is named."""

from __future__ import annotations

from policies.rules import host_configure_timer_delay as rule
from tests.policies import fixtures as f
from tests.policies.hosts_fixture import HostEstate

POLICY = rule.POLICY


def test_rendered_timers_pass():
    assert f.run_stack(POLICY, HostEstate().nodes).messages == []


def test_a_long_or_unfixed_delay_is_named():
    estate = HostEstate()
    estate.copy_of("b2")["randomized_delay_sec"] = 900
    estate.copy_of("nas")["fixed_random_delay"] = False
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "host dataset atlas: restic-backups-atlas-nas.service draws a new random delay of up to 240 s every run, which "
        "adds to the gap between two backups; set FixedRandomDelay=true.",
        "host dataset atlas: restic-backups-atlas-b2.service waits up to 900 s after its start, past the 300 s "
        "between staggered starts on b2; use less than 300."]
    assert outcome.urns == [estate.atlas_host.urn] * 2
