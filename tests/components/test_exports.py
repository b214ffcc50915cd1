"""components/exports.py on the prod stack under mocks: per export a dump CronJob named by the plan, its restore
drill exactly when the tier asks for drills, and the ping Secret its jobs read, all under the ExportJob."""

from __future__ import annotations

from tests.components.harness import children, unit_components


def test_a_dump_job_and_its_drill_when_the_tier_drills(prod):
    registered, _ = prod
    pairs = unit_components(registered, "exports:ExportJob", "export")
    for unit, component in pairs:
        jobs = {r.inputs["metadata"]["name"]: r for r in children(registered, component, "batch/v1:CronJob")}
        expected = {unit.export_job} | ({unit.drill.name} if unit.drill else set())
        assert set(jobs) == expected, unit.dataset
        secrets = [r.inputs["metadata"]["name"] for r in children(registered, component, "v1:ExternalSecret")]
        assert secrets == [unit.ping_secret], unit.dataset
    assert any(u.drill for u, _ in pairs) and any(not u.drill for u, _ in pairs), "the example estate has both"
