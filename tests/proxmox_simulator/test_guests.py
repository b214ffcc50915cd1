"""The guest side of the PVE stand-in follows PVE where it is inconvenient: a restore to an existing VM id fails,
restores and destroys are asynchronous tasks, `unique=1` regenerates MAC addresses, disks excluded from the backup
do not come back, a locked guest cannot be changed, and parameters are checked by PVE's own schema."""

from __future__ import annotations

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from tests.proxmox_simulator.guests import GuestSimulator
from tests.truenas_simulator.pki import server_context


@pytest.fixture
def pve(pki):
    with GuestSimulator("PVE", tls=server_context(pki)) as sim:
        sim.add_guest(100)
        sim.storages.add("local-lvm")
        sim.pools.add("drill")
        sim.volid = sim.add_backup("nas", 100, config={
            "scsi0": "local-lvm:vm-100-disk-0,size=32G", "scsi1": "local-lvm:vm-100-disk-1,backup=0,size=500G",
            "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0"})
        sim.api = ProxmoxAPI(f"127.0.0.1:{sim.port}", user="backup@pve", token_name="homelab-backups",
                             token_value=sim.token_secret, verify_ssl=str(pki["ca"]), service="PVE")
        yield sim


def _error(call) -> ResourceException:
    with pytest.raises(ResourceException) as caught:
        call()
    return caught.value


def _wait(pve, upid):
    for _ in range(10):
        status = pve.api.nodes("pve1").tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
    raise AssertionError(f"{upid} never stopped")


def test_a_restore_is_a_task_and_the_guest_has_its_config_only_when_it_ends(pve):
    upid = pve.api.nodes("pve1").qemu.post(vmid=9000, archive=pve.volid, storage="local-lvm", pool="drill", unique=1)
    assert upid.startswith("UPID:pve1:") and ":qmrestore:9000:" in upid
    assert pve.api.nodes("pve1").tasks(upid).status.get()["status"] == "running"
    assert "VM is locked (create)" in str(_error(lambda: pve.api.nodes("pve1").qemu(9000).config.put(memory=512)))
    assert _wait(pve, upid)["exitstatus"] == "OK"
    config = pve.api.nodes("pve1").qemu(9000).config.get()
    assert config["scsi0"] == "local-lvm:vm-9000-disk-0,size=32G"
    assert "scsi1" not in config, "a backup=0 disk is not in the archive"
    assert "BC:24:11:00:00:01" not in config["net0"] and config["net0"].endswith(",bridge=vmbr0")
    assert pve.guests[9000]["pool"] == "drill"


def test_without_unique_the_mac_address_stays(pve):
    _wait(pve, pve.api.nodes("pve1").qemu.post(vmid=9000, archive=pve.volid, storage="local-lvm"))
    assert pve.api.nodes("pve1").qemu(9000).config.get()["net0"].startswith("virtio=BC:24:11:00:00:01")


def test_a_restore_to_an_existing_id_fails_as_pve_says(pve):
    error = _error(lambda: pve.api.nodes("pve1").qemu.post(vmid=100, archive=pve.volid, storage="local-lvm"))
    assert error.status_code == 500
    assert "unable to restore VM 100 - VM 100 already exists on node 'pve1'" in str(error)


def test_missing_archive_pool_or_storage_and_bad_parameters_are_refused(pve):
    post = pve.api.nodes("pve1").qemu.post
    assert "volume 'nas:backup/nope' does not exist" in str(
        _error(lambda: post(vmid=9000, archive="nas:backup/nope", storage="local-lvm")))
    assert "pool 'nope' does not exist" in str(_error(lambda: post(vmid=9000, archive=pve.volid, pool="nope")))
    assert "storage 'nope' does not exist" in str(_error(lambda: post(vmid=9000, archive=pve.volid, storage="nope")))
    assert _error(lambda: post(vmid=9000, archive=pve.volid, unique="maybe")).status_code == 400


def test_a_failed_restore_task_removes_the_half_restored_guest(pve):
    pve.fail_next_task("qmrestore", "unexpected end of archive")
    upid = pve.api.nodes("pve1").qemu.post(vmid=9000, archive=pve.volid, storage="local-lvm")
    assert 9000 in pve.guests
    assert _wait(pve, upid)["exitstatus"] == "unexpected end of archive"
    assert 9000 not in pve.guests


def test_destroy_is_a_task_and_purge_drops_the_guest_from_jobs(pve):
    _wait(pve, pve.api.nodes("pve1").qemu.post(vmid=9000, archive=pve.volid, storage="local-lvm"))
    pve.jobs["j"] = {"vmid": "100,9000", "schedule": "21:00"}
    upid = pve.api.nodes("pve1").qemu(9000).delete(purge=1)
    assert 9000 in pve.guests
    _wait(pve, upid)
    assert 9000 not in pve.guests and pve.jobs["j"]["vmid"] == "100"
    assert "Configuration file 'nodes/pve1/qemu-server/9000.conf' does not exist" in str(
        _error(lambda: pve.api.nodes("pve1").qemu(9000).delete()))


def test_backups_and_their_configuration_are_listed_per_storage(pve):
    (backup,) = pve.api.nodes("pve1").storage("nas").content.get(content="backup")
    assert (backup["volid"], backup["vmid"], backup["format"]) == (pve.volid, 100, "vma.zst")
    config = pve.api.nodes("pve1").vzdump.extractconfig.get(volume=pve.volid)
    assert "scsi0: local-lvm:vm-100-disk-0,size=32G\n" in config
    assert "storage 'nope' does not exist" in str(_error(lambda: pve.api.nodes("pve1").storage("nope").content.get()))
