"""runbook/nas_config.py: restoring a NAS from its configuration export, through TrueNAS's own Upload Config."""

from __future__ import annotations

from runbook.contract import runbook_contract
from runbook.nas_config import restore_steps
from tests.manifests import dbs_estate


def test_the_runbook_walks_from_the_offsite_copy_to_upload_config() -> None:
    steps = runbook_contract(dbs_estate.inventory(), dbs_estate.plan())["datasets"]["nas-config"]["restore"]
    assert steps == restore_steps(dbs_estate.unit("nas-config"))
    titles = [s["title"] for s in steps]
    assert titles == ["Find the newest export", "Check the bundle",
                      "Install TrueNAS and upload the configuration", "Bring the pools and tasks back"]
    assert steps[0]["command"] == "ls -1t /mnt/tank/app-dumps/nas-config/nas-config-*.tar  # newest first"
    assert "app-dumps's offsite copy" in steps[0]["why"]
    assert "pwenc_secret" in steps[1]["command"] and "Upload File" in steps[2]["why"]


def test_the_generated_markdown_of_the_new_kinds() -> None:
    """The runbook generator over the dbs estate's outputs (under mocks): every new kind renders, validated."""
    from runbook.outputs import validate
    from runbook.render import render
    from tests.components.harness import PROD_ENV, inventory_config, run_estate

    _, exported = run_estate("dbs", config=inventory_config(dbs_estate.RAW), env=PROD_ENV)
    validate(exported)
    files = render(exported, "dbs")
    assert "Source: the NAS's own configuration and secret seed" in files["nas-config.md"]
    assert "Upload File" in files["nas-config.md"]
    assert "mongorestore --uri=" in files["rocket-db.md"] and "--oplogReplay" in files["rocket-db.md"]
    assert "mariadb --host=mariadb.nextcloud.svc" in files["nextcloud-db.md"]
    assert "appendonlydir" in files["authentik-redis.md"]
