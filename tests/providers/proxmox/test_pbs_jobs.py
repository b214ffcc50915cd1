"""PBS sync, prune and verify jobs and the datastore's GC schedule against the PBS stand-in: create, drift found by
read and converged by update, delete (the GC schedule is cleared, the datastore kept), and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from providers.proxmox.backup_jobs import BackupJobProvider
from providers.proxmox.pbs_jobs import DatastoreGcProvider, PruneJobProvider, SyncJobProvider, VerifyJobProvider
from providers.proxmox.service import ProxmoxResourceError
from tests.providers import wire_forms


@pytest.fixture
def base(pbs_connection: dict[str, Any], tokens: None) -> dict[str, Any]:
    return {"connection": pbs_connection, "credentials_entry": "pbs", "context": "pbs-offsite"}


def _create(provider, props):
    checked = provider.check({}, props)
    assert checked.failures == [], checked.failures
    return checked.inputs, provider.create(checked.inputs)


def test_sync_job_pulls_the_offsite_copy_and_converges_after_a_ui_edit(base, pbs):
    provider = SyncJobProvider()
    wanted, result = _create(provider, {**base, "job_id": "hlb-pbs-offsite", "store": "offsite",
                                        "remote_store": "tank", "schedule": "05:30"})
    assert pbs.pbs["sync"]["hlb-pbs-offsite"] == {"store": "offsite", "remote-store": "tank", "schedule": "05:30",
                                                  "remove-vanished": "0"}
    pbs.edit("sync", "hlb-pbs-offsite", remove_vanished="1", schedule="hourly")
    read = provider.read(result.id, result.outs)
    assert (read.inputs["remove_vanished"], read.inputs["schedule"]) == (True, "hourly")
    assert provider.diff(result.id, read.inputs, wanted).changes
    provider.update(result.id, read.outs, wanted)
    assert pbs.pbs["sync"]["hlb-pbs-offsite"]["remove-vanished"] == "0"
    assert provider.diff(result.id, {**wanted, "store": "tank"}, wanted).replaces == ["store"]
    provider.delete(result.id, result.outs)
    provider.delete(result.id, result.outs)
    assert pbs.pbs["sync"] == {}


def test_prune_job_keeps_the_tier_retention(base, pbs):
    provider = PruneJobProvider()
    _, result = _create(provider, {**base, "job_id": "hlb-pbs-offsite", "store": "offsite", "schedule": "06:00",
                                   "keep_daily": 30, "keep_monthly": 12})
    assert pbs.pbs["prune"][result.id] == {"store": "offsite", "schedule": "06:00", "keep-daily": "30",
                                           "keep-monthly": "12", "disable": "0"}
    pbs.edit("prune", result.id, keep_daily="3")
    assert provider.read(result.id, result.outs).inputs["keep_daily"] == 3
    provider.delete(result.id, result.outs)


def test_prune_job_without_retention_is_refused(base):
    failures = PruneJobProvider().check({}, {**base, "job_id": "x", "store": "offsite", "schedule": "06:00"}).failures
    assert [(f.property, f.reason) for f in failures] == [(
        "keep_daily", "a prune job without any keep_* option would delete every backup but the newest; set the "
        "tier's retention")]


def test_verify_job_on_the_tier_cadence(base, pbs):
    provider = VerifyJobProvider()
    _, result = _create(provider, {**base, "job_id": "hlb-tank", "store": "tank", "schedule": "sat 07:00",
                                   "outdated_after": 7})
    assert pbs.pbs["verify"][result.id] == {"store": "tank", "schedule": "sat 07:00", "ignore-verified": "1",
                                            "outdated-after": "7"}
    provider.delete(result.id, result.outs)


def test_gc_schedule_is_set_and_cleared_but_the_datastore_stays(base, pbs):
    provider = DatastoreGcProvider()
    _, result = _create(provider, {**base, "job_id": "tank", "gc_schedule": "08:15"})
    assert pbs.datastores["tank"]["gc-schedule"] == "08:15"
    pbs.edit("datastore", "tank", gc_schedule="sun 01:00")
    assert provider.read("tank", result.outs).inputs["gc_schedule"] == "sun 01:00"
    provider.delete("tank", result.outs)
    assert "gc-schedule" not in pbs.datastores["tank"] and "path" in pbs.datastores["tank"]


def test_a_job_on_a_missing_datastore_is_refused_with_the_fix(base, pbs):
    provider = SyncJobProvider()
    checked = provider.check({}, {**base, "job_id": "hlb-x", "store": "nope", "remote_store": "tank",
                                  "schedule": "05:30"}).inputs
    with pytest.raises(ProxmoxResourceError) as caught:
        provider.create(checked)
    assert str(caught.value).startswith("pbs-offsite: PBS sync job 'hlb-x': create failed: HTTP 400 datastore "
                                        "'nope' does not exist.")
    assert pbs.pbs["sync"] == {}


# --- requests captured from a real preview and up (tests/providers/wire_forms/proxmox.json) --------------------------

PROVIDERS = {"proxmox:BackupJob": BackupJobProvider, "proxmox:SyncJob": SyncJobProvider,
             "proxmox:PruneJob": PruneJobProvider, "proxmox:VerifyJob": VerifyJobProvider,
             "proxmox:DatastoreGc": DatastoreGcProvider}
CAPTURED = [(t, r) for t in PROVIDERS for r in wire_forms.of_type(t, "Check")]


def test_the_engine_sent_every_proxmox_type():
    assert {t for t, _ in CAPTURED} == set(PROVIDERS)


@pytest.mark.parametrize(("kind", "record"), CAPTURED, ids=[wire_forms.record_id(r) for _, r in CAPTURED])
def test_check_accepts_what_the_engine_sends(kind, record):
    result = wire_forms.check(PROVIDERS[kind](), record)
    assert [(f.property, f.reason) for f in result.failures] == []


def test_wire_doubles_reach_pbs_as_integers():
    """Every number crosses the wire as a double; PBS refuses `7.0` for an integer field."""
    (record, *_) = [r for r in wire_forms.of_type("proxmox:VerifyJob", "Check") if r["step"] == "preview-empty"]
    news = wire_forms.news(record)
    assert isinstance(news["outdated_after"], float)
    assert VerifyJobProvider()._body(news)["outdated-after"] == 7
