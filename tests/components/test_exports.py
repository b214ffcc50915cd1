"""components/exports.py on the prod stack under mocks: per export a dump CronJob named by the plan, its restore
drill exactly when the tier asks for drills, and the ping Secret its jobs read, all under the ExportJob."""

from __future__ import annotations

from tests.components.harness import of_type, stack_plan


def test_a_dump_job_and_its_drill_when_the_tier_drills(prod):
    registered, _ = prod
    components = {r.name: r for r in of_type(registered, "exports:ExportJob")}
    units = [u for u in stack_plan("prod").units if u.kind == "export"]
    assert units and set(components) == {u.dataset for u in units}
    for unit in units:
        component = components[unit.dataset]
        jobs = {r.inputs["metadata"]["name"]: r for r in registered
                if r.typ == "kubernetes:batch/v1:CronJob" and r.parent == component.urn}
        expected = {unit.export_job} | ({unit.drill.name} if unit.drill else set())
        assert set(jobs) == expected, unit.dataset
        secrets = [r.inputs["metadata"]["name"] for r in registered
                   if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret" and r.parent == component.urn]
        assert secrets == [unit.ping_secret], unit.dataset
    assert any(u.drill for u in units) and any(not u.drill for u in units), "the example estate has both"
