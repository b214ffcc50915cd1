"""Kopiur units: replicas counted as copies on their own medium with the replication cadence as RPO, the NAS
repository keeping what its replicas must, maintenance only where Kopiur writes."""

from __future__ import annotations

import pytest

from inventory import load_inventory
from inventory.tiers import DEFAULT_TIERS, Retention
from plan import build_plan
from plan.cron import Cron
from plan.kopiur import quick_maintenance, replicated_retention


@pytest.fixture
def replicated(estate):
    estate["datasets"][0]["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    return build_plan(load_inventory(estate)).unit("vaultwarden")


def test_replicas_are_copies_on_another_medium(replicated):
    assert [(c.destination, c.tool, c.replica_of) for c in replicated.copies] == [
        ("nas", "kopiur", None), ("b2", "kopiur", "nas"), ("r2", "kopiur", "nas")]
    assert replicated.plan.copy_count == 4
    assert replicated.plan.offsite_count == 2
    assert replicated.plan.media == ("cluster-disk", "nas-disk", "object-storage")


def test_a_replica_rpo_is_the_replication_cadence(replicated):
    nas, b2, r2 = replicated.copies
    tier = DEFAULT_TIERS[1]
    assert nas.schedule.interval_hours == tier.rpo_hours
    assert b2.schedule.interval_hours == r2.schedule.interval_hours == tier.offsite_rpo_hours
    assert replicated.plan.rpo_hours == tier.rpo_hours


def test_the_replicated_repository_keeps_what_its_replicas_must(replicated):
    merged = Retention(hourly=48, daily=30, monthly=12)
    assert replicated_retention(DEFAULT_TIERS[1], 12) == merged
    assert {c.retention for c in replicated.copies} == {merged}


def test_hourly_points_of_a_replicated_repository_outlive_the_offsite_lock(estate):
    estate["datasets"][0]["source"] |= {"mover": "kopiur", "offsite_by": "replication"}
    estate["datasets"][0]["rpo_hours"] = 1
    unit = build_plan(load_inventory(estate)).unit("vaultwarden")
    nas = unit.copies[0]
    assert nas.schedule.interval_hours == 1
    # 48 hourly points of hourly snapshots would be released after 2 days, inside the 14-day lock of the replicas.
    assert {c.retention.hourly for c in unit.copies} == {(14 + 1) * 24}
    assert min(c.lock_days for c in unit.copies if c.offsite and c.lock_days) == 14


def test_independent_snapshots_keep_the_tier_retention_per_layer(estate):
    estate["datasets"][0]["source"]["mover"] = "kopiur"
    unit = build_plan(load_inventory(estate)).unit("vaultwarden")
    assert [(c.destination, c.replica_of, c.retention) for c in unit.copies] == [
        ("nas", None, DEFAULT_TIERS[1].local_retention), ("b2", None, DEFAULT_TIERS[1].offsite_retention),
        ("r2", None, DEFAULT_TIERS[1].offsite_retention)]
    assert all(o.maintenance is not None for o in unit.objects)


def test_maintenance_runs_where_kopiur_writes_and_never_on_replicas(replicated):
    nas, b2, r2 = replicated.objects
    assert nas.maintenance is not None and nas.maintenance.every_hours == 24
    assert nas.maintenance_object == "vaultwarden-nas-maintenance"
    assert (b2.maintenance, r2.maintenance, b2.maintenance_object) == (None, None, None)


def test_replicas_write_with_their_own_scoped_key(replicated):
    assert replicated.credentials == {"b2": ("b2-tier1", "vaultwarden-kopiur"),
                                      "r2": ("r2-tier1", "vaultwarden-kopiur")}
    assert replicated.copies[1].repository == "kopiur/vaultwarden/vaultwarden-data"


def test_checks_and_the_drill_read_the_nas_repository(replicated):
    assert [c.destination for c in replicated.checks] == ["nas"]
    assert replicated.drill is not None and replicated.drill.destination == "nas"


def test_quick_maintenance_stays_clear_of_the_full_run():
    full = Cron(23 * 60 + 30)
    quick = quick_maintenance(full)
    assert quick.every_hours == 6
    assert all((start - full.minute_of_day) % (24 * 60) >= 60 for start in quick.starts()[:4])
