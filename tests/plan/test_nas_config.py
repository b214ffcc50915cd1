"""plan/nas_config.py and its place in the plan: the export's slot, folder and retention, the copies carried from
the target dataset (one on the NAS, the target's offsite ones), no keys and no drill of its own."""

from __future__ import annotations

from plan.nas_config import NAS_CONFIG_TOOL
from tests.manifests import dbs_estate


def test_the_export_lands_in_the_target_and_is_carried_offsite() -> None:
    unit = dbs_estate.unit("nas-config")
    export = unit.plan.export
    assert (export.engine, export.target_dataset, export.target_path, export.keep) == (
        NAS_CONFIG_TOOL, "app-dumps", "/mnt/tank/app-dumps/nas-config", 30)
    assert [(c.destination, c.tool, c.offsite) for c in unit.copies] == [
        ("app-dumps", NAS_CONFIG_TOOL, False), ("b2", "cloudsync", True), ("r2", "cloudsync", True)]
    assert [c.repository for c in unit.copies[1:]] == ["truenas/tank/app-dumps/nas-config"] * 2
    assert unit.plan.rpo_hours <= dbs_estate.inventory().tier(1).rpo_hours
    assert unit.plan.media == ("nas-disk", "object-storage")


def test_no_keys_no_drill_and_the_nas_clock() -> None:
    unit = dbs_estate.unit("nas-config")
    assert unit.credentials == {} and unit.drill is None and unit.checks == ()
    assert unit.tool == NAS_CONFIG_TOOL and unit.namespace == "monitoring"
    target = dbs_estate.unit("app-dumps")
    assert unit.plan.nas_utc_offset_minutes == target.plan.nas_utc_offset_minutes
    assert unit.objects[0].backup_slug == "backup-nas-config-export"
