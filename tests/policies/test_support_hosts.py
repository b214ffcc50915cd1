"""policies/rules/support/hosts.py: host datasets are judged by the dataset rules like every other dataset.

The atlas host (its HostBackup outputs made by the program's code from a plan) passes every stack rule; each
mutation of what the host's component declares is caught by the rule that owns that requirement."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from pulumi_policy import StackValidationPolicy

import policies.rules as rules_package
from policies.rules.support.estate import Estate
from tests.policies import fixtures as f
from tests.policies.hosts_fixture import HostEstate

STACK_POLICIES = [p for p in (importlib.import_module(f"policies.rules.{m.name}").POLICY
                              for m in pkgutil.iter_modules(rules_package.__path__)
                              if not m.ispkg and m.name != "config") if isinstance(p, StackValidationPolicy)]


def about_atlas(estate: HostEstate) -> dict[str, list[str]]:
    found = {}
    for policy in STACK_POLICIES:
        messages = [m for m in f.run_stack(policy, estate.nodes).messages if "atlas" in m]
        if messages:
            found[policy.name] = messages
    return found


def test_the_host_is_indexed_with_its_copies_checks_drill_and_alerts():
    from policies.rules.support.policy import StackResource

    estate = HostEstate()
    index = Estate([StackResource(n.urn, n.type, n.name, n.props, n.parent.urn if n.parent else None)
                    for n in estate.nodes], ["hc-ping.com"], ["out-of-sync", "missed-run", "never-ran"])
    atlas = index.datasets["atlas"]
    assert [(c.destination, c.medium, c.offsite, c.tool) for c in atlas.copies] == [
        ("nas", "nas-disk", False, "restic"), ("b2", "object-storage", True, "restic")]
    assert atlas.copies[1].bucket is not None and atlas.copies[1].bucket.lock_days == 14
    assert atlas.primary_medium == "host-disk" and len(atlas.checks) == 2 and len(atlas.drills) == 1
    assert atlas.alerts == {"out-of-sync", "missed-run", "never-ran"}


def test_a_compliant_host_passes_every_stack_rule():
    assert about_atlas(HostEstate()) == {}


@pytest.mark.parametrize(("mutate", "rule"), [
    (lambda e: e.atlas_host.props.update(copies=[e.copy_of("nas")]), "dataset-enforce-offsite-copy"),
    (lambda e: [c.update(check_opts=None) for c in e.atlas_host.props["copies"]], "dataset-missing-integrity-check"),
    (lambda e: e.atlas_host.props.update(drill=None), "dataset-missing-restore-drill"),
    (lambda e: [c.update(ping=False) for c in e.atlas_host.props["copies"]], "dataset-missing-alerting"),
    (lambda e: [c.update(schedule="15 3 * * 0") for c in e.atlas_host.props["copies"]], "dataset-enforce-rpo"),
    (lambda e: e.copy_of("b2").update(keep={"daily": 3}), "dataset-enforce-minimum-retention"),
], ids=["no-offsite", "no-check", "no-drill", "no-ping", "weekly", "short-retention"])
def test_each_weakened_host_is_caught_by_its_rule(mutate, rule):
    estate = HostEstate()
    mutate(estate)
    found = about_atlas(estate)
    assert rule in found, found
