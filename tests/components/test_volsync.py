"""components/volsync.py on the prod stack under mocks: a ReplicationSource per PVC and copy, under its component,
and a destination's private CA reaching the movers that talk to it."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import PROD_ENV, of_type, run_estate, stack_config, stack_plan


def test_volsync_objects_per_pvc_and_destination_parented_to_their_component(prod):
    registered, _ = prod
    plan = stack_plan("prod")
    components = {r.urn: r for r in of_type(registered, "volsync:VolSyncBackup")}
    sources = [r for r in registered if r.typ == "kubernetes:volsync.backube/v1alpha1:ReplicationSource"]
    expected = [(u.dataset, c.destination) for u in plan.units if u.kind == "pvc" and u.tool != "kopiur"
                for c in u.copies]
    assert len(sources) == len(expected)
    for source in sources:
        assert source.parent in components, source.urn
    names = {s.inputs["metadata"]["name"] for s in sources}
    assert len(names) == len(sources), "one ReplicationSource name per PVC x destination"


def _with_storj_ca(path) -> dict[str, str]:
    config = stack_config("prod")
    destinations = json.loads(config["homelab-backups:destinations"])
    for dest in destinations:
        if dest["name"] == "storj":
            dest["ca_file"] = str(path)
    config["homelab-backups:destinations"] = json.dumps(destinations)
    # In the example estate only NAS datasets copy to Storj; give a PVC a copy there too.
    datasets = json.loads(config["homelab-backups:datasets"])
    for ds in datasets:
        if ds["name"] == "vaultwarden":
            ds["destinations"] = ["nas", "b2", "r2", "storj"]
    config["homelab-backups:datasets"] = json.dumps(datasets)
    return config


def test_a_private_ca_reaches_the_movers_of_every_pvc_copy_to_that_destination(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    registered, _ = run_estate("prod", config=_with_storj_ca(bundle), env=PROD_ENV)
    maps = [r for r in registered if r.typ == "kubernetes:core/v1:ConfigMap"]
    sources = [r for r in registered if r.typ == "kubernetes:volsync.backube/v1alpha1:ReplicationSource"
               and r.inputs["metadata"]["labels"]["backup.homelab/destination"] == "storj"]
    assert sources and len(maps) == len(sources)
    namespaces = {m.inputs["metadata"]["namespace"] for m in maps}
    assert namespaces == {s.inputs["metadata"]["namespace"] for s in sources}
    for config_map in maps:
        assert config_map.inputs["data"] == {"ca.crt": bundle.read_text()}, config_map.urn
    for source in sources:
        mover = next(k for k in ("restic", "kopia") if k in source.inputs["spec"])
        assert source.inputs["spec"][mover]["customCA"] == {"configMapName": "hlb-ca-storj", "key": "ca.crt"}


def test_an_unreadable_ca_file_is_refused_by_field(tmp_path):
    import pulumi

    with pytest.raises(pulumi.RunError, match=r"destinations\['storj'\]\.ca_file .* cannot be read"):
        run_estate("prod", config=_with_storj_ca(tmp_path / "missing.pem"), env=PROD_ENV)
