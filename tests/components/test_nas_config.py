"""components/nas_config.py under mocks: the NAS configuration dataset of the dbs test estate gets one TrueNAS cron
job under its component, running as root on the plan's slot (in the NAS's zone), its command a secret carrying the
Healthchecks ping, and the target dataset named for the policy pack."""

from __future__ import annotations

import pytest

from tests.components.harness import PROD_ENV, inventory_config, run_estate
from tests.manifests import dbs_estate


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_one_root_cron_job_on_the_plans_slot(preview: bool) -> None:
    registered, exported = run_estate("dbs", preview=preview, config=inventory_config(dbs_estate.RAW), env=PROD_ENV)
    (component,) = [r for r in registered if r.typ.endswith("nas_config:NasConfigBackup")]
    (job,) = [r for r in registered if r.typ.endswith("truenas:CronJob")]
    assert job.parent == component.urn and job.name == "nas-config-export"
    unit = dbs_estate.unit("nas-config")
    assert job.inputs["user"] == "root" and job.inputs["target_dataset"] == "app-dumps"
    assert job.inputs["schedule"] == unit.plan.export.schedule.shifted(unit.plan.nas_utc_offset_minutes).truenas()
    assert "command" in job.secret_outputs and "connection" in job.secret_outputs
    if not preview:
        command = job.inputs["command"]
        assert set(command) == {"4dabf18193072939515e22adb298388d", "value"}, "the command is a secret"
        assert "/backup-nas-config-export" in command["value"] and "/mnt/tank/app-dumps/nas-config" in command["value"]
    assert exported["runbook"]["datasets"]["nas-config"]["source"] == "nas-config"
