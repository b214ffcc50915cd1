"""components/pgbackrest.py under mocks: per copy a protected cipher passphrase and the ScheduledBackups, one
Stanza and PluginConfig per cluster; in render mode the Cluster is left alone (its plugin entry is exported), in
apply mode the entry is patched into the live Cluster server-side."""

from __future__ import annotations

from tests.components.harness import children, of_type, unit_components


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
