"""Apply mode through the real engine against a real API server: the path of a user without Flux.

One estate (restic and kopia PVCs, a CNPG database, Healthchecks, PrometheusRules) in `kubernetes.mode: apply`,
its buckets on the loopback S3 server behind TLS (pgBackRest only speaks HTTPS). The walk is the user's:
the pull-request preview of an empty stack with the pack, `up`, a second `up` with no changes, an edit made
with the API found by refresh and converged by `up`, and `destroy` as the README describes it.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from tests.drills.front import S3Front
from tests.drills.tls import make_certificates
from tests.engine.project import ROOT, EngineProject, free_port, s3_server

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK = "apply"
PING_KEY = "apply-ping-key-never-shared_0123"
"""The Healthchecks project ping key, only in the environment as the README says."""
DATABASE_NS, CLUSTER = "database", "postgres18-immich"
OTHER_PLUGIN = {"name": "barman-cloud.cloudnative-pg.io", "enabled": True, "isWALArchiver": False,
                "parameters": {"barmanObjectName": "minio-store"}}
"""A plugin the user's Cluster already lists (from their GitOps repository): it must survive every step."""


def _estate(endpoint: str) -> dict:
    s3 = {"kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto"}
    return {"config": {
        "homelab-backups:destinations": [
            {"name": "nas", "kind": "nfs", "server": "127.0.0.1", "path": "/mnt/tank/backups"},
            {"name": "nas-s3", **s3, "offsite": False, "price_usd_per_tb_month": 0},
            {"name": "offsite-s3", **s3, "offsite": True, "price_usd_per_tb_month": 6},
        ],
        "homelab-backups:datasets": [
            {"name": "vaultwarden", "tier": 1, "size_gb": 1, "rpo_hours": 6,
             "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                        "storage_class": "ceph-block", "capacity": "5Gi"}},
            {"name": "grafana", "tier": 2, "size_gb": 0.5,
             "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                        "capacity": "2Gi", "mover": "kopia"}},
            {"name": "immich-db", "tier": 1, "size_gb": 2,
             "source": {"kind": "postgres", "namespace": DATABASE_NS, "cluster": CLUSTER}},
        ],
        "homelab-backups:monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
        "homelab-backups:kubernetes": {"mode": "apply", "secret_delivery": "secret"},
        "homelab-backups:budget_usd_per_month": "5",
    }}


def _users_cluster(kube) -> None:
    """The CNPG Cluster as the user's GitOps tool created it, already listing another plugin."""
    kube.ensure_namespace(DATABASE_NS)
    kube.apply({
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": CLUSTER, "namespace": DATABASE_NS},
        "spec": {"instances": 2, "imageName": "ghcr.io/cloudnative-pg/postgresql:18", "storage": {"size": "10Gi"},
                 "plugins": [OTHER_PLUGIN]},
    }, field_manager="kustomize-controller")


@pytest.fixture(scope="module")
def stack(kube, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("apply-stack")
    port = free_port()
    s3_server("start", port)
    certs = make_certificates(workdir / "tls")
    try:
        with kube.volsync_variant("volsync-kopia"), S3Front(port, certs.cert, certs.key) as front:
            for namespace in ("vaultwarden", "monitoring"):
                kube.ensure_namespace(namespace)
            _users_cluster(kube)
            project = EngineProject(workdir)
            (project.dir / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(_estate(front.endpoint)))
            project.extra_env = {
                "KUBECONFIG": str(kube.kubeconfig), "AWS_CA_BUNDLE": str(certs.ca),
                **{f"HLB_{d}_{f}": f"engine-{d.lower()}-{f.lower()}" for d in ("NAS_S3", "OFFSITE_S3")
                   for f in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY")},
                "HLB_HEALTHCHECKS_PING_KEY": PING_KEY,
            }
            project.run("stack", "init", STACK)
            project.kube = kube
            yield project
    finally:
        s3_server("stop", port)


def _items(kube, path: str) -> list[dict]:
    return kube.get(path)["items"]


def _managed(kube, path: str) -> list[dict]:
    return [o for o in _items(kube, path)
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "homelab-backups"]


def _plugins(kube) -> list[dict]:
    cluster = kube.get(f"/apis/postgresql.cnpg.io/v1/namespaces/{DATABASE_NS}/clusters/{CLUSTER}")
    return cluster["spec"].get("plugins", [])


SOURCES = "/apis/volsync.backube/v1alpha1/replicationsources"


def test_1_preview_of_the_empty_stack_with_the_pack(stack):
    result = stack.run("preview", "--stack", STACK, "--policy-pack", str(ROOT / "policies"), check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "mandatory" not in output.lower() or "0 mandatory" in output.lower(), output
    assert not _managed(stack.kube, SOURCES), "a preview must not create anything"


def test_2_up_creates_the_objects_on_the_server(stack):
    stack.run("up", "--stack", STACK, "--yes", "--skip-preview", timeout=600)
    kube = stack.kube
    sources = {o["metadata"]["name"]: o for o in _managed(kube, SOURCES)}
    assert {"vaultwarden-nas", "vaultwarden-offsite-s3", "grafana-nas"} <= set(sources), sorted(sources)
    assert "restic" in sources["vaultwarden-nas"]["spec"] and "kopia" in sources["grafana-nas"]["spec"]
    assert _managed(kube, "/apis/volsync.backube/v1alpha1/replicationdestinations")
    assert _managed(kube, "/apis/volsync.backube/v1alpha1/kopiamaintenances")
    (stanza,) = _managed(kube, "/apis/pgbackrest.dalibo.com/v1/stanzas")
    assert stanza["metadata"]["namespace"] == DATABASE_NS
    backups = _managed(kube, "/apis/postgresql.cnpg.io/v1/scheduledbackups")
    assert {b["spec"]["method"] for b in backups} == {"plugin"} and len(backups) == 4, backups
    assert _managed(kube, "/apis/batch/v1/cronjobs")
    assert _managed(kube, "/apis/monitoring.coreos.com/v1/prometheusrules")
    secrets = _managed(kube, "/api/v1/secrets")
    assert not _managed(kube, "/apis/external-secrets.io/v1/externalsecrets")
    (pings,) = [s for s in secrets if s["metadata"]["name"] == "vaultwarden-healthchecks"]
    urls = {k: base64.b64decode(v).decode() for k, v in pings["data"].items()}
    assert urls and all(u == f"https://hc-ping.com/{PING_KEY}/{slug}" for slug, u in urls.items()), urls
    repository = next(s for s in secrets if s["metadata"]["name"] == sources["vaultwarden-nas"]["spec"]["restic"]
                      ["repository"])
    password = base64.b64decode(repository["data"]["RESTIC_PASSWORD"]).decode()
    assert len(password) >= 32
    secret_outputs = stack.outputs(STACK, show_secrets=True)["secrets"]
    assert password in json.dumps(secret_outputs), "the Secret holds the escrowed password"
    plugins = _plugins(kube)
    assert OTHER_PLUGIN in plugins, plugins
    (ours,) = [p for p in plugins if p["name"] == "pgbackrest.dalibo.com"]
    assert ours["isWALArchiver"] is True and ours["parameters"]["stanzaRef"] == stanza["metadata"]["name"]


def test_3_second_up_has_no_changes(stack):
    result = stack.run("up", "--stack", STACK, "--yes", "--skip-preview", "--expect-no-changes", check=False,
                       timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert OTHER_PLUGIN in _plugins(stack.kube)


def test_4_an_edit_made_with_the_api_is_found_by_refresh_and_converged_by_up(stack):
    kube = stack.kube
    path = "/apis/volsync.backube/v1alpha1/namespaces/vaultwarden/replicationsources/vaultwarden-nas"
    planned = kube.get(path)["spec"]["trigger"]["schedule"]
    assert planned != "7 7 * * *"
    kube.request("PATCH", path, {"spec": {"trigger": {"schedule": "7 7 * * *"}}}, "application/merge-patch+json",
                 {"fieldManager": "someone-with-kubectl"})
    refreshed = stack.run("refresh", "--stack", STACK, "--yes", "--skip-preview", timeout=600)
    assert "ReplicationSource vaultwarden-nas" in refreshed.stdout, refreshed.stdout
    # The diff `up` prints is the one a preview would (one program run fewer: ~8 s of CPU).
    converge = stack.run("up", "--stack", STACK, "--yes", "--skip-preview", "--diff", timeout=600)
    assert "7 7 * * *" in converge.stdout, converge.stdout
    assert kube.get(path)["spec"]["trigger"]["schedule"] == planned
    again = stack.run("up", "--stack", STACK, "--yes", "--skip-preview", "--expect-no-changes", check=False,
                      timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr


def test_5_destroy_as_the_readme_says(stack):
    kube = stack.kube
    with kube.collecting_garbage():
        refused = stack.run("destroy", "--stack", STACK, "--yes", "--skip-preview", check=False, timeout=600)
    assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr
    remaining = stack.run("stack", "--stack", STACK, "--show-urns").stdout
    assert "GeneratedSecret" in remaining and "S3CompatibleBucket" in remaining, "protected resources stay"
    stack.run("state", "unprotect", "--stack", STACK, "--all", "--yes")
    with kube.collecting_garbage():
        stack.run("destroy", "--stack", STACK, "--yes", "--skip-preview", timeout=600)
    assert not kube.gc_errors, kube.gc_errors[:5]
    for path in (SOURCES, "/apis/pgbackrest.dalibo.com/v1/stanzas", "/apis/postgresql.cnpg.io/v1/scheduledbackups",
                 "/apis/batch/v1/cronjobs", "/api/v1/secrets", "/apis/monitoring.coreos.com/v1/prometheusrules"):
        assert not _managed(kube, path), path
    # README "Apply mode": the patch owned the whole (atomic) list, so giving it back removes the list; the
    # Cluster itself stays, and re-applying it from git restores the user's own plugins.
    assert _plugins(kube) == []
    _users_cluster(kube)
    assert _plugins(kube) == [OTHER_PLUGIN]
