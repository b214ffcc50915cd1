"""The API server's own validation, beside the offline schema check (tests/manifests/crd_schema.py).

Each case starts from an object the program's builders render and breaks one thing. Where both validators can
see the problem they must agree; CEL transition rules and defaulting only the real server can check. These
tests also prove the dry runs of test_flux_dry_run.py are not a rubber stamp: the same call refuses bad input.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from tests.kubernetes.apiserver import ApiError
from tests.kubernetes.objects import FIELD_MANAGER, dry_run
from tests.manifests import crd_schema, dbs_estate
from tests.manifests.estate import rendered


def _first(kind: str, predicate=lambda o: True) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in rendered().objects() if o["kind"] == kind and predicate(o)))


def _refusal(kube, obj: dict[str, Any]) -> str:
    kube.ensure_namespace(obj["metadata"]["namespace"])
    with pytest.raises(ApiError) as refused:
        kube.apply(obj, FIELD_MANAGER, dry_run=True)
    assert refused.value.status in (400, 422), refused.value
    return refused.value.message


def test_every_object_the_builders_render_is_accepted(kube):
    """The manifest tests' estate (restic and kopia, NFS/B2/R2/MinIO, CNPG, exports, drills) as a whole."""
    report = dry_run(kube, rendered().objects(), tally="manifest tests' estate, from the builders")
    assert not report.rejections, report.summary()
    assert len(report.applied) >= len(rendered().objects())


def test_the_database_exports_with_init_containers_are_accepted(kube):
    """MySQL/MariaDB, MongoDB and Redis dumps and drills (manifests/dbs.py): the dump as init container, a reporter."""
    objects = dbs_estate.objects()
    report = dry_run(kube, objects, tally="database exports, from the builders")
    assert not report.rejections, report.summary()
    assert len(report.applied) >= len(objects)


def test_a_cronjob_name_over_52_characters_is_refused_by_both(kube):
    cronjob = _first("CronJob")
    cronjob["metadata"]["name"] = "c" * 53
    assert "must be no more than 52 characters" in _refusal(kube, cronjob)
    assert crd_schema.validate(cronjob), "the offline schema must refuse it too"
    cronjob["metadata"]["name"] = "c" * 52
    kube.apply(cronjob, FIELD_MANAGER, dry_run=True)


def test_a_label_value_over_63_characters_is_refused_by_both(kube):
    source = _first("ReplicationSource")
    source["metadata"]["labels"]["backup.homelab/dataset"] = "d" * 64
    assert "must be no more than 63 bytes" in _refusal(kube, source)
    assert crd_schema.validate(source)


def test_a_name_that_is_not_a_dns_name_is_refused_by_both(kube):
    stanza = _first("Stanza")
    stanza["metadata"]["name"] = "Immich_DB"
    assert "RFC 1123" in _refusal(kube, stanza)
    assert crd_schema.validate(stanza)


def test_a_missing_required_field_is_refused_by_both(kube):
    stanza = _first("Stanza")
    del stanza["spec"]["stanzaConfiguration"]
    assert "spec.stanzaConfiguration: Required value" in _refusal(kube, stanza)
    assert crd_schema.validate(stanza)


def test_a_field_the_crd_does_not_know_is_refused_by_both(kube):
    """A create or update would prune it silently; a server-side apply refuses it, as Flux would see."""
    source = _first("ReplicationSource", lambda o: "restic" in o["spec"])
    source["spec"]["restic"]["pruneIntervalDay"] = 7  # a typo of pruneIntervalDays
    report = dry_run(kube, [source])
    assert len(report.rejections) == 2, report.summary()  # under upstream VolSync and under the kopia fork
    assert all(".spec.restic.pruneIntervalDay: field not declared in schema" in r for r in report.rejections)
    assert crd_schema.validate(source)


def test_cel_transition_rule_keeps_a_scheduled_backup_on_its_cluster(kube):
    """CNPG's `self == oldSelf` on spec.cluster: only a server that holds the old object can check it."""
    backup = _first("ScheduledBackup")
    backup["metadata"]["name"] = "cel-immutable-cluster"
    kube.ensure_namespace(backup["metadata"]["namespace"])
    kube.apply(backup, FIELD_MANAGER)  # stored for real: the rule compares against it
    try:
        moved = copy.deepcopy(backup)
        moved["spec"]["cluster"]["name"] = "another-cluster"
        assert "cluster reference is immutable after creation" in _refusal(kube, moved)
        assert not crd_schema.validate(moved), "the offline schema cannot see transition rules"
        kube.apply(backup, FIELD_MANAGER, dry_run=True)  # re-applying the same spec is fine
    finally:
        kube.request("DELETE", kube.object_path(backup))


def test_cel_rule_on_a_cluster_is_enforced(kube):
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": "cel-check", "namespace": "database"},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}, "imageName": "ghcr.io/cloudnative-pg/postgresql:18",
                 "imageCatalogRef": {"apiGroup": "postgresql.cnpg.io", "kind": "ImageCatalog", "name": "pg",
                                     "major": 18}},
    }
    assert "imageName and imageCatalogRef are mutually exclusive" in _refusal(kube, cluster)


def test_the_server_fills_defaults_the_program_leaves_out(kube):
    """What a cluster really runs is the object after defaulting: CronJobs active, with bounded history."""
    cronjob = _first("CronJob")
    kube.ensure_namespace(cronjob["metadata"]["namespace"])
    spec = kube.apply(cronjob, FIELD_MANAGER, dry_run=True)["spec"]
    assert spec["suspend"] is False
    assert spec["successfulJobsHistoryLimit"] == cronjob["spec"].get("successfulJobsHistoryLimit", 3)
    assert spec["failedJobsHistoryLimit"] == cronjob["spec"].get("failedJobsHistoryLimit", 1)
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"]
    assert pod["containers"][0]["terminationMessagePolicy"] == "File"
    backup = _first("ScheduledBackup")
    returned = kube.apply(backup, FIELD_MANAGER, dry_run=True)["spec"]
    assert returned["method"] == "plugin", "the CRD default (barmanObjectStore) must not win"
    assert returned["backupOwnerReference"] == "self"


def test_the_stand_in_garbage_collector_finishes_foreground_deletions(kube):
    """Without it a foreground delete (what Pulumi sends) would wait forever: no controller-manager runs here."""
    kube.ensure_namespace("gc-check")
    path = "/api/v1/namespaces/gc-check/secrets/doomed"
    kube.create("/api/v1/namespaces/gc-check/secrets",
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "doomed"}, "stringData": {"a": "b"}})
    kube.request("DELETE", path, {"propagationPolicy": "Foreground"})
    assert kube.get(path)["metadata"]["finalizers"] == ["foregroundDeletion"]
    with kube.collecting_garbage(interval=0.1):
        deadline = time.monotonic() + 30
        while kube.exists(path) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not kube.exists(path), kube.gc_errors
