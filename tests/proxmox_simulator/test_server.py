"""The PVE/PBS stand-in answers as the published APIs do: PVE's own parameter checks (through fakepve) and error
wording, token authentication per service, job state, `not-backed-up`, and the fault injection the provider tests
rely on."""

from __future__ import annotations

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from tests.proxmox_simulator import ProxmoxSimulator
from tests.truenas_simulator.pki import server_context


@pytest.fixture
def pve(pki):
    with ProxmoxSimulator("PVE", tls=server_context(pki)) as simulator:
        simulator.add_guest(100)
        simulator.add_guest(200, "pve2", "lxc", pool="media")
        simulator.storages.add("nas")
        simulator.api = ProxmoxAPI(f"127.0.0.1:{simulator.port}", user="backup@pve", token_name="homelab-backups",
                                   token_value=simulator.token_secret, verify_ssl=str(pki["ca"]), service="PVE")
        yield simulator


def _error(call) -> ResourceException:
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value


def test_a_job_round_trips_with_pve_types(pve):
    pve.api.cluster.backup.post(id="j1", schedule="21:00", storage="nas", vmid="100", enabled=1, **{
        "repeat-missed": "true"})
    job = pve.api.cluster.backup("j1").get()
    assert (job["type"], job["enabled"], job["repeat-missed"], job["vmid"]) == ("vzdump", 1, 1, "100")


def test_pve_schema_errors_in_pve_wording(pve):
    error = _error(lambda: pve.api.cluster.backup.post(id="j2", schedule="21:00", storage="nas", vmid="abc",
                                                       mode="fast"))
    assert error.status_code == 400 and error.content == "Parameter verification failed."
    assert error.errors == {"vmid": "invalid format - value does not look like a valid VM ID",
                            "mode": "value 'fast' does not have a value in the enumeration 'snapshot, suspend, stop'"}


def test_selector_conflicts_and_missing_schedule(pve):
    assert _error(lambda: pve.api.cluster.backup.post(id="j3", schedule="21:00", storage="nas", vmid="100",
                                                      pool="media")).errors == {
        "pool": "option conflicts with option 'vmid'"}
    assert _error(lambda: pve.api.cluster.backup.post(id="j3", storage="nas", all=1)).errors == {
        "schedule": "neither 'starttime' nor 'schedule' were set"}


def test_missing_job_and_duplicate_id(pve):
    assert _error(lambda: pve.api.cluster.backup("nope").get()).errors == {"id": "No such job 'nope'"}
    assert _error(lambda: pve.api.cluster.backup("nope").put(schedule="22:00")).content == "no such vzdump job"
    pve.api.cluster.backup.post(id="dup", schedule="21:00", storage="nas", all=1)
    assert _error(lambda: pve.api.cluster.backup.post(id="dup", schedule="21:00", storage="nas",
                                                      all=1)).content == "Job 'dup' already exists"


def test_not_backed_up_lists_uncovered_guests(pve):
    assert [g["vmid"] for g in pve.api("cluster/backup-info/not-backed-up").get()] == [100, 200]
    pve.api.cluster.backup.post(id="media", schedule="21:00", storage="nas", pool="media")
    assert [g["vmid"] for g in pve.api("cluster/backup-info/not-backed-up").get()] == [100]


def test_wrong_token_and_injected_faults(pve, pki):
    wrong = ProxmoxAPI(f"127.0.0.1:{pve.port}", user="backup@pve", token_name="homelab-backups", token_value="x",
                       verify_ssl=str(pki["ca"]), service="PVE")
    assert _error(lambda: wrong.nodes.get()).status_code == 401
    pve.fail_next("GET", "/nodes", 503, "node offline")
    error = _error(lambda: pve.api.nodes.get())
    assert (error.status_code, error.content) == (503, "node offline")
    assert [n["node"] for n in pve.api.nodes.get()] == ["pve1", "pve2"]
