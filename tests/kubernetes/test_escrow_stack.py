"""Escrow into a Kubernetes secret store through the real engine and a real API server.

A render-mode estate (restic and kopia PVCs, a CNPG database, Healthchecks) with `secret_store: {kind:
kubernetes}`: the ExternalSecrets go to ./rendered for Flux, the values they read go to the `escrow` namespace of
the cluster, where a ClusterSecretStore of the External Secrets `kubernetes` provider would read them. The walk
is the user's (tests/engine/project.py `UserPath`): the pull request's preview with the pack, `up`, a preview and
an `up` without changes; then a key rotated, a dataset removed with `on_delete: keep`, and one with `remove`.
Each rendered ExternalSecret is resolved as that provider resolves it (tests/eso_reads.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.drills.front import S3Front
from tests.drills.tls import make_certificates
from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.eso_reads import NotResolved, kubernetes_reader, resolve

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK = "escrow"
STORE_NS = "escrow"
PING_KEY = "escrow-ping-key-never-shared_0123"
ROTATED_PING_KEY = "escrow-ping-key-rotated-never-shared_4567"
ROTATED_WRITER = "HLB_OFFSITE_S3_WRITER_VAULTWARDEN_RESTIC_SECRET_ACCESS_KEY"
ROTATED_SECRET = "rotated-writer-secret-never-shared_89ab"


def _pvc(name: str, tier: int, namespace: str, mover: str = "restic") -> dict[str, Any]:
    return {"name": name, "tier": tier, "size_gb": 1,
            "source": {"kind": "pvc", "namespace": namespace, "claim": f"{name}-data", "storage_class": "ceph-block",
                       "capacity": "2Gi", "mover": mover}}


def _config(endpoint: str, datasets: list[str], on_delete: str = "keep") -> dict[str, Any]:
    s3 = {"kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto"}
    every = {
        "vaultwarden": {**_pvc("vaultwarden", 1, "vaultwarden"), "rpo_hours": 6},
        "grafana": _pvc("grafana", 2, "monitoring", "kopia"),
        "home-assistant": _pvc("home-assistant", 2, "home"),
        "immich-db": {"name": "immich-db", "tier": 1, "size_gb": 2,
                      "source": {"kind": "postgres", "namespace": "database", "cluster": "postgres18-immich"}},
    }
    return {
        "destinations": [
            {"name": "nas", "kind": "nfs", "server": "127.0.0.1", "path": "/mnt/tank/backups"},
            {"name": "nas-s3", **s3, "offsite": False, "price_usd_per_tb_month": 0},
            {"name": "offsite-s3", **s3, "offsite": True, "price_usd_per_tb_month": 6},
        ],
        "datasets": [every[name] for name in datasets],
        "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
        "kubernetes": {"mode": "render", "secret_delivery": "external-secret", "external_secret_store": "escrow"},
        "secret_store": {"kind": "kubernetes", "namespace": STORE_NS, "context": "tests", "on_delete": on_delete},
        "budget_usd_per_month": "5",
    }


ALL = ["vaultwarden", "grafana", "home-assistant", "immich-db"]


@pytest.fixture(scope="module")
def path(kube, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("escrow-stack")
    port = free_port()
    s3_server("start", port)
    certs = make_certificates(workdir / "tls")
    try:
        with S3Front(port, certs.cert, certs.key) as front:
            kube.ensure_namespace(STORE_NS)
            project = EngineProject(workdir)
            project.write_stack(STACK, _config(front.endpoint, ALL))
            project.extra_env = {
                "KUBECONFIG": str(kube.kubeconfig), "AWS_CA_BUNDLE": str(certs.ca),
                **{f"HLB_{d}_{f}": f"engine-{d.lower()}-{f.lower()}" for d in ("NAS_S3", "OFFSITE_S3")
                   for f in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY")},
                "HLB_HEALTHCHECKS_PING_KEY": PING_KEY,
            }
            project.kube = kube
            project.endpoint = front.endpoint
            yield UserPath(project, STACK).begin()
    finally:
        s3_server("stop", port)


def _external_secrets(project: EngineProject) -> list[dict[str, Any]]:
    found = []
    for file in sorted((project.dir / "rendered").rglob("*.yaml")):
        found += [d for d in yaml.safe_load_all(file.read_text()) if d and d.get("kind") == "ExternalSecret"]
    return found


def _store(kube) -> dict[str, dict[str, Any]]:
    secrets = kube.get(f"/api/v1/namespaces/{STORE_NS}/secrets")["items"]
    return {s["metadata"]["name"]: s for s in secrets}


def _secret_values(project: EngineProject) -> list[str]:
    """Every sensitive value of the stack: escrow, writer and read-only keys, the ping keys."""
    shown = project.outputs(STACK, show_secrets=True)
    values = [PING_KEY, ROTATED_PING_KEY, ROTATED_SECRET]
    for dataset, per_copy in shown["secrets"].items():
        if dataset != "healthchecks_ping_base":
            values += [v for v in per_copy.values() if isinstance(v, str)]
    for role in ("credentials", "reader_credentials"):
        values += [c["secret_access_key"] for per in shown[role].values() for c in per.values()]
    return values


def test_1_the_pull_request_preview_with_the_pack_passes(path):
    assert not [f for f in path.policy_findings() if f[0] == "mandatory"], path.policy_findings()
    assert path.planned_types().get("kubernetes:core/v1:Secret", 0) >= 5, path.planned_types()


def test_2_every_external_secret_resolves_from_the_store(path):
    project, kube = path.project, path.project.kube
    externals = _external_secrets(project)
    assert len(externals) >= 6, [e["metadata"]["name"] for e in externals]
    read = kubernetes_reader(kube.get, STORE_NS)
    shown = project.outputs(STACK, show_secrets=True)
    resolved = {}
    for ext in externals:
        assert ext["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "escrow"}
        resolved[(ext["metadata"]["namespace"], ext["metadata"]["name"])] = resolve(ext, read)
    repo = resolved[("vaultwarden", "vaultwarden-offsite-s3-repo")]
    assert repo["RESTIC_PASSWORD"] == shown["secrets"]["vaultwarden"]["offsite-s3"]
    writer = shown["credentials"]["vaultwarden"]["offsite-s3"]
    assert (repo["AWS_ACCESS_KEY_ID"], repo["AWS_SECRET_ACCESS_KEY"]) == (
        writer["access_key_id"], writer["secret_access_key"])
    assert resolved[("monitoring", "grafana-nas-repo")]["KOPIA_PASSWORD"] == shown["secrets"]["grafana"]["nas"]
    ciphers = {v["CIPHER_PASS"] for (ns, _), v in resolved.items() if ns == "database" and "CIPHER_PASS" in v}
    assert ciphers and ciphers == set(shown["secrets"]["immich-db"].values()), sorted(resolved)
    assert all(v == {"ping_key": PING_KEY} for (ns, name), v in resolved.items() if name.endswith("-healthchecks"))
    store = _store(kube)
    assert all(s["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab-backups" for s in store.values())


def test_3_a_second_preview_and_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_4_a_rotated_key_updates_the_store(path):
    project, kube = path.project, path.project.kube
    project.extra_env |= {"HLB_HEALTHCHECKS_PING_KEY": ROTATED_PING_KEY, ROTATED_WRITER: ROTATED_SECRET}
    path.pulumi("up-rotated", "up", "--yes", "--skip-preview")
    path.require("up-rotated")
    read = kubernetes_reader(kube.get, STORE_NS)
    assert read("homelab-backups.healthchecks", "ping_key") == ROTATED_PING_KEY
    assert read("homelab-backups.vaultwarden-offsite-s3-repo", "secret_access_key") == ROTATED_SECRET
    for ext in _external_secrets(project):
        resolve(ext, read)


def _remove(path: UserPath, dataset: str, datasets: list[str], on_delete: str) -> None:
    """What a user does to stop protecting a dataset: unprotect its generated passwords, drop it, `up`."""
    project = path.project
    for resource in project.resources(STACK):
        if resource.get("protect") and f"::{dataset}-" in resource["urn"]:
            project.run("state", "unprotect", "--stack", STACK, resource["urn"], "--yes")
    project.write_stack(STACK, _config(project.endpoint, datasets, on_delete))
    path.pulumi(f"up-without-{dataset}", "up", "--yes", "--skip-preview")
    path.require(f"up-without-{dataset}")


def test_5_a_removed_dataset_keeps_its_item_by_default(path):
    kube = path.project.kube
    item = "homelab-backups.grafana-nas-repo"
    assert item in _store(kube)
    _remove(path, "grafana", [d for d in ALL if d != "grafana"], "keep")
    assert item in _store(kube), "on_delete: keep leaves the item in the store"
    assert not [r for r in path.project.resources(STACK) if r["urn"].endswith(f"secret-store-{item[16:]}")]


def test_6_with_on_delete_remove_the_item_goes(path):
    project, kube = path.project, path.project.kube
    remaining = [d for d in ALL if d != "grafana"]
    # The choice applies to what the last `up` recorded: switch it first, then remove the dataset.
    project.write_stack(STACK, _config(project.endpoint, remaining, "remove"))
    path.pulumi("up-remove", "up", "--yes", "--skip-preview")
    path.require("up-remove")
    item = "homelab-backups.home-assistant-nas-repo"
    assert item in _store(kube)
    with kube.collecting_garbage():  # Pulumi deletes in the foreground; no controller runs here to finish it
        _remove(path, "home-assistant", [d for d in remaining if d != "home-assistant"], "remove")
    assert not kube.gc_errors, kube.gc_errors[:5]
    assert item not in _store(kube)
    assert "homelab-backups.grafana-nas-repo" in _store(kube), "the item kept earlier stays"
    with pytest.raises(NotResolved):
        kubernetes_reader(kube.get, STORE_NS)(item, "repository_password")


def test_7_no_secret_value_in_outputs_logs_or_git_bound_files(path):
    project = path.project
    values = _secret_values(project)
    plain = project.run("stack", "output", "--stack", STACK, "--json").stdout
    git_bound = [p.read_text() for p in (project.dir / "rendered").rglob("*.yaml")]
    git_bound.append((project.dir / f"Pulumi.{STACK}.yaml").read_text())
    logs = [r.stdout + r.stderr for r in path.steps.values()]
    preview = project.run("preview", "--stack", STACK, "--diff", "--json").stdout
    for value in values:
        assert len(value) >= 16
        for text in (plain, preview, *logs, *git_bound):
            assert value not in text
    exported = json.loads(project.run("stack", "export", "--stack", STACK).stdout)
    state = json.dumps(exported)
    for value in values:
        assert value not in state, "the state holds values only encrypted"
    assert Path(project.dir / "rendered").exists()
