"""components/kopiur.py on the prod stack under mocks (its kopia datasets moved to Kopiur) and on a replicated
dataset: the objects per copy under their component, one protected password per repository Kopiur writes, and a
replica opened with its source's password and written with its own scoped key."""

from __future__ import annotations

import json

from tests.components.harness import PROD_ENV, children, of_type, run_estate, stack_config, stack_plan

KOPIUR = "kubernetes:kopiur.home-operations.com/v1alpha1:"


def test_prod_kopia_datasets_are_kopiur_components_with_their_objects(prod):
    registered, _ = prod
    units = [u for u in stack_plan("prod").units if u.tool == "kopiur"]
    components = {r.name: r for r in of_type(registered, "kopiur:KopiurBackup")}
    assert sorted(components) == sorted(u.dataset for u in units) == [
        "bazarr", "grafana", "qbittorrent", "radarr", "sonarr"]
    for unit in units:
        component = components[unit.dataset]
        kinds = sorted(r.typ.removeprefix(KOPIUR) for r in children(registered, component, "")
                       if r.typ.startswith(KOPIUR))
        assert kinds == ["Maintenance", "Repository", "Restore", "SnapshotPolicy", "SnapshotSchedule"], unit.dataset
        passwords = children(registered, component, "GeneratedSecret")
        assert len(passwords) == 1 and passwords[0].protect, unit.dataset


def _replicated_config() -> dict[str, str]:
    config = stack_config("prod")
    datasets = json.loads(config["homelab-backups:datasets"])
    for ds in datasets:
        if ds["name"] == "vaultwarden":
            ds["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    config["homelab-backups:datasets"] = json.dumps(datasets)
    return config


def test_replicas_share_the_source_password_and_write_with_their_own_key():
    registered, _ = run_estate("prod", config=_replicated_config(), env=PROD_ENV)
    component = next(r for r in of_type(registered, "kopiur:KopiurBackup") if r.name == "vaultwarden")
    assert [r.name for r in children(registered, component, "GeneratedSecret")] == ["vaultwarden-nas-password"]
    replications = [r for r in children(registered, component, "RepositoryReplication")]
    assert sorted(r.inputs["metadata"]["name"] for r in replications) == ["vaultwarden-b2", "vaultwarden-r2"]
    for replication in replications:
        assert replication.inputs["spec"]["sourceRef"] == {"kind": "Repository", "name": "vaultwarden-nas"}
    secrets = {r.inputs["metadata"]["name"]: r for r in registered if r.typ.endswith("ExternalSecret")
               and r.inputs["metadata"]["labels"].get("backup.homelab/dataset") == "vaultwarden"}
    b2 = secrets["vaultwarden-b2-repo"]
    keys = {d["secretKey"] for d in b2.inputs["spec"]["data"]}
    assert keys == {"KOPIA_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    drill = [r.typ for r in registered if r.name.startswith("vaultwarden-drill-")]
    assert {t.rsplit(":", 1)[1] for t in drill} == {"PersistentVolumeClaim", "ServiceAccount", "Role", "RoleBinding",
                                                    "CronJob"}
