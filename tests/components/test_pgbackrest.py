"""components/pgbackrest.py under mocks: per copy a protected cipher passphrase and the ScheduledBackups, one
Stanza and PluginConfig per cluster; in render mode the Cluster is left alone (its plugin entry is exported), in
apply mode the entry is patched into the live Cluster server-side."""

from __future__ import annotations

import json

from tests.components.harness import PROD_ENV, children, of_type, run_estate, stack_config, unit_components


def test_a_protected_cipher_per_copy_and_one_stanza_per_cluster(prod):
    registered, exported = prod
    pairs = unit_components(registered, "pgbackrest:PgBackRestBackup", "postgres")
    for unit, component in pairs:
        ciphers = children(registered, component, "secrets:GeneratedSecret")
        assert sorted(c.name for c in ciphers) == sorted(f"{unit.dataset}-{c.destination}-cipher" for c in unit.copies)
        assert all(c.protect and "value" in c.secret_outputs for c in ciphers), unit.dataset
        (stanza,) = children(registered, component, "pgbackrest.dalibo.com/v1:Stanza")
        assert stanza.inputs["metadata"]["name"] == unit.stanza, unit.dataset
        assert len(children(registered, component, "pgbackrest.dalibo.com/v1:PluginConfig")) == 1, unit.dataset
        schedules = children(registered, component, "postgresql.cnpg.io/v1:ScheduledBackup")
        assert sorted(s.inputs["metadata"]["name"] for s in schedules) == sorted(
            name for o in unit.objects for name in (o.scheduled_backups or ())), unit.dataset
    assert not of_type(registered, "postgresql.cnpg.io/v1:ClusterPatch"), "render mode must not touch the Cluster"
    if exported.get("cluster_plugins") is not None:
        assert set(exported["cluster_plugins"]) == {u.dataset for u, _ in pairs}


def test_cluster_plugin_entry_is_patched_server_side(applied):
    patches = {r.inputs["metadata"]["name"]: r for r in applied
               if r.typ == "kubernetes:postgresql.cnpg.io/v1:ClusterPatch"}
    assert set(patches) == {"postgres18-immich", "postgres18-cluster"}
    for cluster, patch in patches.items():
        (plugin,) = patch.inputs["spec"]["plugins"]
        assert plugin["name"] == "pgbackrest.dalibo.com" and plugin["isWALArchiver"] is True, cluster
        assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"


def test_the_ca_reaches_the_pgbackrest_sidecar_and_jobs(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    config = stack_config("prod")
    destinations = json.loads(config["homelab-backups:destinations"])
    for dest in destinations:
        if dest["name"] == "nas-s3":
            dest["ca_file"] = str(bundle)
    config["homelab-backups:destinations"] = json.dumps(destinations)
    registered, exported = run_estate("prod", config=config, env=PROD_ENV)
    maps = [r for r in registered if r.typ == "kubernetes:core/v1:ConfigMap"
            and r.inputs["metadata"]["name"] == "hlb-ca-nas-s3"]
    # Both clusters live in `database` and copy to nas-s3: one ConfigMap serves both.
    assert [m.inputs["metadata"]["namespace"] for m in maps] == ["database"]
    assert maps[0].inputs["data"] == {"ca.crt": bundle.read_text()}
    stanzas = [r for r in registered if r.typ.endswith("pgbackrest.dalibo.com/v1:Stanza")]
    assert len(stanzas) == 2
    for stanza in stanzas:
        env = stanza.inputs["spec"]["stanzaConfiguration"]["customEnvVar"]
        assert env["PGBACKREST_REPO1_STORAGE_CA_FILE"] == "/projected/hlb-ca/nas-s3.crt", stanza.urn
        assert not any(k.startswith(("PGBACKREST_REPO2_", "PGBACKREST_REPO3_")) and k.endswith("CA_FILE")
                       for k in env), stanza.urn
    assert exported["estate"].cluster_ca_sources.keys() == {"immich-db", "postgres-cluster"}
