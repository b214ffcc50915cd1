"""pgBackRest builders: Stanza, PluginConfig, ScheduledBackups and the Cluster plugin entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from manifests import pgbackrest
from manifests.secrets import ACCESS_KEY_ID, CIPHER_PASS, SECRET_ACCESS_KEY
from tests.manifests import crd_schema, estate

CLUSTER_CRD = "cnpg/postgresql.cnpg.io_clusters.yaml"


def _postgres() -> tuple[Any, Any]:
    return estate.dataset("immich-db")


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


@pytest.mark.parametrize("obj", estate.rendered().pgbackrest, ids=_name)
def test_every_object_validates(obj: dict[str, Any]) -> None:
    assert crd_schema.validate(obj) == []


def test_stanza_has_one_repository_per_copy() -> None:
    ds, dp = _postgres()
    stanza = pgbackrest.stanza(ds)
    configuration = stanza["spec"]["stanzaConfiguration"]
    assert stanza["metadata"] == {
        "name": pgbackrest.stanza_name(ds), "namespace": "database",
        "labels": {"backup.homelab/dataset": "immich-db", "backup.homelab/tier": "1",
                   "app.kubernetes.io/managed-by": "homelab-backups"},
    }
    assert configuration["name"] == ds.source.cluster
    repositories = configuration["s3Repositories"]
    assert len(repositories) == len(dp.copies) == 2
    for repository, copy in zip(repositories, dp.copies, strict=True):
        secret = pgbackrest.credentials_secret_name(ds, copy)
        assert repository == {
            "bucket": copy.bucket,
            "endpoint": copy.endpoint.removeprefix("https://"),
            "region": copy.region,
            "uriStyle": "path",
            "verifyTLS": True,
            "repoPath": "/" + copy.repository,
            "secretRef": {
                "accessKeyId": {"name": secret, "key": "ACCESS_KEY_ID"},
                "secretAccessKey": {"name": secret, "key": "SECRET_ACCESS_KEY"},
            },
            "retentionPolicy": {
                "full": copy.pgbackrest.retention_full, "fullType": "count", "diff": copy.pgbackrest.retention_diff,
            },
            "cipherConfig": {"encryptionPass": {"name": secret, "key": "CIPHER_PASS"}, "type": "aes-256-cbc"},
        }
    assert len({r["bucket"] for r in repositories}) == 2
    assert "customEnvVar" not in configuration


def test_endpoints_are_bare_hosts_and_ports_go_to_storage_port() -> None:
    ds, dp = _postgres()
    custom = replace(dp.copies[1], endpoint="https://s3.internal.example:9000")
    unit = estate.unit(ds.name, replace(dp, copies=(dp.copies[0], custom)))
    configuration = pgbackrest.stanza(unit)["spec"]["stanzaConfiguration"]
    assert configuration["s3Repositories"][1]["endpoint"] == "s3.internal.example"
    assert configuration["customEnvVar"] == {"PGBACKREST_REPO2_STORAGE_PORT": "9000"}
    assert crd_schema.validate(pgbackrest.stanza(unit)) == []


def test_plain_http_endpoints_are_refused() -> None:
    ds, dp = _postgres()
    with pytest.raises(ValueError, match="HTTPS only"):
        pgbackrest.stanza(estate.unit(ds.name, replace(dp, copies=(replace(dp.copies[0],
                                                                            endpoint="http://minio:9000"),))))


def test_retention_horizon_covers_the_tier_window() -> None:
    _, dp = _postgres()
    for copy in dp.copies:
        assert copy.pgbackrest.retention_full * 7 >= copy.retention.window_days()


def test_credentials_secret_is_references_only() -> None:
    ds, dp = _postgres()
    for copy in dp.copies:
        spec = pgbackrest.credentials_secret(ds, copy)
        assert spec.namespace == "database"
        assert dict(spec.data) == {
            "ACCESS_KEY_ID": ACCESS_KEY_ID, "SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "CIPHER_PASS": CIPHER_PASS,
        }
        assert spec.labels["backup.homelab/destination"] == copy.destination


def test_scheduled_backups_use_the_six_field_dialect_and_select_their_repository() -> None:
    ds, dp = _postgres()
    for index, copy in enumerate(dp.copies, start=1):
        full, diff = pgbackrest.scheduled_backups(ds, copy, index)
        for backup, backup_type, cron in ((full, "full", copy.pgbackrest.full), (diff, "diff", copy.pgbackrest.diff)):
            spec = backup["spec"]
            fields = spec["schedule"].split()
            assert len(fields) == 6 and fields[0] == "0" and " ".join(fields[1:]) == cron.five_field()
            assert spec["method"] == "plugin"
            assert spec["cluster"] == {"name": ds.source.cluster}
            assert spec["pluginConfiguration"] == {
                "name": "pgbackrest.dalibo.com",
                "parameters": {"backupType": backup_type, "selectedRepository": str(index)},
            }
        assert full["spec"]["schedule"].split()[-1] != "*", "fulls are weekly"


def test_scheduled_backup_crd_cannot_tell_five_from_six_fields() -> None:
    ds, dp = _postgres()
    backup = pgbackrest.scheduled_backups(ds, dp.copies[0], 1)[0]
    backup["spec"]["schedule"] = dp.copies[0].pgbackrest.full.five_field()
    # CNPG's CRD leaves the dialect to us: the field-count test above is what guards it.
    assert crd_schema.validate(backup) == []


def test_repository_numbers_start_at_one() -> None:
    ds, dp = _postgres()
    with pytest.raises(ValueError, match="numbered from 1"):
        pgbackrest.scheduled_backups(ds, dp.copies[0], 0)


def test_plugin_config_enables_the_exporter() -> None:
    ds, _ = _postgres()
    config = pgbackrest.plugin_config(ds)
    assert config["metadata"]["name"] == pgbackrest.plugin_config_name(ds)
    assert config["spec"]["exporterConfig"] == {"enabled": True, "collectInterval": 600}
    assert crd_schema.validate(config) == []


def test_cluster_plugin_snippet_fits_the_cluster_crd() -> None:
    ds, _ = _postgres()
    snippet = pgbackrest.cluster_plugin_snippet(ds, pgbackrest.stanza_name(ds))
    schema = crd_schema.fragment_schema(CLUSTER_CRD, "v1", ("spec", "plugins", "[]"))
    assert crd_schema.errors(schema, snippet) == []
    assert snippet == {
        "name": "pgbackrest.dalibo.com", "enabled": True, "isWALArchiver": True,
        "parameters": {"stanzaRef": "immich-db", "pluginConfigRef": "immich-db"},
    }
    assert crd_schema.errors(schema, {**snippet, "walArchiver": True}) != []
    assert estate.rendered().plugin_snippets == [snippet]


def test_merged_plugins_keeps_the_users_plugins_and_updates_ours_in_place() -> None:
    ds, _ = _postgres()
    ours = pgbackrest.cluster_plugin_snippet(ds, pgbackrest.stanza_name(ds))
    barman = {"name": "barman-cloud.cloudnative-pg.io", "parameters": {"barmanObjectName": "store"}}
    stale = {**ours, "parameters": {"stanzaRef": "old"}}
    assert pgbackrest.merged_plugins(None, ours) == [ours]
    assert pgbackrest.merged_plugins([barman], ours) == [barman, ours]
    assert pgbackrest.merged_plugins([stale, barman], ours) == [ours, barman]
    assert pgbackrest.merged_plugins([barman, ours], ours) == [barman, ours]


def test_non_postgres_datasets_and_foreign_copies_are_refused() -> None:
    ds, dp = _postgres()
    pvc, pvc_plan = estate.dataset("vaultwarden")
    with pytest.raises(TypeError, match="postgres datasets"):
        pgbackrest.plugin_config(pvc)
    with pytest.raises(ValueError, match="not a pgBackRest copy"):
        pgbackrest.credentials_secret(ds, pvc_plan.copies[0])
    with pytest.raises(ValueError, match="at least one repository"):
        pgbackrest.stanza(estate.unit(ds.name, replace(dp, copies=())))


def test_a_private_ca_reaches_pgbackrest_through_the_stanza_env_and_the_cluster_projected_volume() -> None:
    """The Stanza has no CA field: its customEnvVar names the file, the Cluster's projected volume carries it into
    the sidecar (the plugin gives the sidecar every postgres mount), and both agree on the path the plan decided."""
    ds, dp = _postgres()
    copies = tuple(replace(c, private_ca=c is dp.copies[0]) for c in dp.copies)
    unit = estate.unit(ds.name, replace(dp, copies=copies))
    stanza = pgbackrest.stanza(unit)
    env = stanza["spec"]["stanzaConfiguration"]["customEnvVar"]
    path = f"/projected/hlb-ca/{copies[0].destination}.crt"
    assert unit.copy_objects(copies[0].destination).pgbackrest.ca_file == path
    assert env["PGBACKREST_REPO1_STORAGE_CA_FILE"] == path
    assert not any(k.endswith("_STORAGE_CA_FILE") for k in env if not k.startswith("PGBACKREST_REPO1_"))
    (source,) = pgbackrest.cluster_ca_sources(unit)
    assert source == {"configMap": {"name": f"hlb-ca-{copies[0].destination}",
                                    "items": [{"key": "ca.crt", "path": path.removeprefix("/projected/")}]}}
    assert crd_schema.validate(stanza) == []
    plain = estate.unit(ds.name, dp)
    assert pgbackrest.cluster_ca_sources(plain) == []
    assert not any(k.endswith("_STORAGE_CA_FILE")
                   for k in pgbackrest.stanza(plain)["spec"]["stanzaConfiguration"].get("customEnvVar", {}))


def test_the_cluster_keeps_its_own_projected_sources_when_ours_are_merged() -> None:
    ours = [{"configMap": {"name": "hlb-ca-nas-s3", "items": [{"key": "ca.crt", "path": "hlb-ca/nas-s3.crt"}]}}]
    theirs = [{"secret": {"name": "app-tls"}}, {"configMap": {"name": "hlb-ca-nas-s3", "items": []}}]
    assert pgbackrest.merged_ca_sources(theirs, ours) == [{"secret": {"name": "app-tls"}}, *ours]
    assert pgbackrest.merged_ca_sources(None, ours) == ours
