"""inventory/nas_config.py: the NAS configuration export needs a Tier 1 NAS dataset with an offsite copy."""

from __future__ import annotations

import copy
from typing import Any

from tests.inventory.problems import problems
from tests.manifests import dbs_estate


def _raw() -> dict[str, Any]:
    return copy.deepcopy(dbs_estate.RAW)


def _config(raw: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in raw["datasets"] if d["name"] == "nas-config")


def test_the_target_must_be_a_nas_dataset() -> None:
    raw = _raw()
    _config(raw)["source"]["target"] = "nextcloud-db"
    assert problems(raw) == [("datasets[6].source.target", "rule", "'nextcloud-db' is not a truenas dataset of this "
                              "inventory; name the NAS dataset that receives the configuration exports")]


def test_the_target_must_copy_offsite_and_be_as_important() -> None:
    raw = _raw()
    raw["datasets"].append({"name": "scratch", "tier": 3, "size_gb": 1,
                            "source": {"kind": "truenas", "dataset": "tank/scratch"}})
    _config(raw)["source"]["target"] = "scratch"
    assert problems(raw) == [("datasets[6].source.target", "rule", "the NAS configuration is tier 1 but 'scratch' is "
                              "only tier 3; raise that dataset to tier 1")]
    _config(raw)["tier"] = 3
    assert problems(raw) == [("datasets[6].source.target", "rule", "'scratch' has no offsite copy, and a "
                              "configuration export that lives only on the NAS is lost with it; give that dataset an "
                              "offsite destination")]


def test_one_nas_one_config_export_and_no_destinations_of_its_own() -> None:
    raw = _raw()
    raw["datasets"].append({**_config(raw), "name": "nas-config-2", "destinations": ["b2"]})
    assert problems(raw) == [
        ("datasets[6].source", "rule", "the inventory has one NAS and ['nas-config-2'] already exports its "
         "configuration; keep one nas-config dataset"),
        ("datasets[7].destinations", "rule", "the configuration's copies are those of its target dataset; remove "
         "destinations"),
        ("datasets[7].source", "rule", "the inventory has one NAS and ['nas-config'] already exports its "
         "configuration; keep one nas-config dataset"),
    ]


def test_it_needs_the_truenas_section() -> None:
    raw = _raw()
    del raw["truenas"]
    found = problems(raw)
    assert found[0][0] == "truenas" and "'nas-config'" in found[0][2]
