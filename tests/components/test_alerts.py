"""components/alerts.py on the prod stack under mocks: the PrometheusRules the alert builder returns for the units
whose tier asks for alerts, each declared once in the monitoring namespace under the one BackupAlerts component."""

from __future__ import annotations

from manifests import alerts
from tests.components.harness import of_type, stack_plan


def test_the_rules_of_the_alerting_units_are_declared_under_the_component(prod):
    registered, _ = prod
    (component,) = of_type(registered, "alerts:BackupAlerts")
    rules = [r for r in registered if r.typ == "kubernetes:monitoring.coreos.com/v1:PrometheusRule"]
    alerting = [u for u in stack_plan("prod").units if u.plan.alerts]
    assert alerting and rules
    expected = alerts.prometheus_rules(alerting, "monitoring")
    assert sorted(r.inputs["metadata"]["name"] for r in rules) == sorted(e["metadata"]["name"] for e in expected)
    by_name = {r.inputs["metadata"]["name"]: r for r in rules}
    for rule in expected:
        declared = by_name[rule["metadata"]["name"]]
        assert declared.parent == component.urn, declared.urn
        assert declared.inputs["metadata"]["namespace"] == "monitoring", declared.urn
        assert declared.inputs["spec"] == rule["spec"], declared.urn
