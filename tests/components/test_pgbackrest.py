"""A private CA on a pgBackRest destination: the CA ConfigMap in the cluster's namespace, the Stanza's env and the
Cluster's projected source exported for the GitOps repository (`cnpg_cluster_ca_sources`)."""

from __future__ import annotations

import json

from tests.components.harness import PROD_ENV, run_estate, stack_config


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
