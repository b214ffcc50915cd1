"""Render mode as Flux applies it: every object the program renders goes through a server-side dry-run apply
(`application/apply-patch+yaml`, `dryRun=All`, field manager `flux`) against a real API server with the
upstream CRDs installed. A refusal, or a field the server would prune, is a failure naming the object."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.components.harness import PROD_ENV, run_estate
from tests.engine.project import EngineProject, free_port, s3_server
from tests.kubernetes.objects import dry_run, registered_objects, rendered_objects


@pytest.fixture(scope="module")
def local_render(tmp_path_factory):
    """The local stack's rendered tree, written by the real engine and Kubernetes provider (`pulumi up`)."""
    port = free_port()
    s3_server("start", port)
    try:
        project = EngineProject(tmp_path_factory.mktemp("flux-local"), s3_port=port)
        project.run("stack", "init", "local")
        project.run("up", "--stack", "local", "--yes", "--skip-preview")
        yield project.dir / "rendered"
    finally:
        s3_server("stop", port)


@pytest.mark.engine
@pytest.mark.slow
def test_every_object_the_local_stack_renders_is_accepted_by_the_server(kube, local_render):
    objects = rendered_objects(local_render)
    kinds = {m.obj["kind"] for m in objects}
    assert {"ReplicationSource", "ReplicationDestination", "KopiaMaintenance", "ExternalSecret",
            "PrometheusRule", "CronJob", "Repository", "SnapshotPolicy", "SnapshotSchedule", "Maintenance", "Restore",
            "RepositoryReplication", "ServiceAccount", "Role", "RoleBinding"} <= kinds, kinds
    report = dry_run(kube, objects, tally="local stack, rendered by the engine")
    assert not report.rejections, report.summary()
    assert len(report.applied) >= len(objects)


@pytest.mark.slow
def test_every_object_of_the_prod_estate_is_accepted_by_the_server(kube):
    registered, _ = run_estate("prod", env=PROD_ENV)
    objects = registered_objects(registered)
    kinds = Counter(o["kind"] for o in objects)
    # Prod's kopia datasets moved to Kopiur (issue 15): the kopia fork's objects are dry-run from the local stack
    # and the manifest tests' estate.
    assert {"Stanza", "PluginConfig", "ScheduledBackup", "ReplicationSource", "CronJob", "PersistentVolumeClaim",
            "ExternalSecret", "PrometheusRule", "Repository", "SnapshotPolicy", "SnapshotSchedule", "Maintenance",
            "Restore"} <= set(kinds), kinds
    pings = [o for o in objects if o["kind"] == "ExternalSecret" and o["metadata"]["name"].endswith("-healthchecks")]
    assert pings, "prod pings Healthchecks: its jobs' ping ExternalSecrets must be among the dry-run objects"
    report = dry_run(kube, objects, tally="prod estate, under mocks")
    assert not report.rejections, report.summary()
    assert len(report.applied) >= len(objects)
