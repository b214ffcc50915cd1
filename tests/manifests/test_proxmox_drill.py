"""The guest restore drill: its CronJob as rendered, and its script run for real (sh and curl, as the job runs it)
against the PVE guest simulator over HTTPS and a Healthchecks stand-in: a good restore pings success and leaves
nothing behind; a missing backup, a failed restore task, disks that come back wrong, or a scratch id held by a real
guest each ping `/fail` with the reason, and whatever was restored is removed."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from dataclasses import replace

import pytest

from inventory import load_inventory
from manifests import proxmox_drill
from plan import build_plan
from plan.proxmox_drill import GuestDrillPlan
from tests.drills.healthchecks import FakeHealthchecks
from tests.proxmox_estate import PROXMOX
from tests.proxmox_simulator.guests import GuestSimulator
from tests.truenas_simulator.pki import make_pki, server_context

TOKEN = "drill@pve!restore"
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the job image ships curl; this host has none")


@pytest.fixture
def drill(estate) -> GuestDrillPlan:
    raw = {**estate, "proxmox": {**copy.deepcopy(PROXMOX), "drill": {"token_id": TOKEN}}}
    plan = build_plan(load_inventory(raw)).proxmox
    assert plan is not None
    (infra,) = plan.drills
    return infra


def _script(job: dict) -> str:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container["command"][2]


def _env(job: dict) -> dict[str, str]:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"] if "value" in e}


def test_cronjob_runs_the_group_drill_with_its_own_token_and_scratch_space(drill):
    job = proxmox_drill.drill_cronjob("monitoring", drill, "https://pve1.lan:8006", TOKEN, pings=True,
                                      ca_config_map="proxmox-ca")
    assert job["metadata"]["name"] == drill.name == "infra-nas-vzdump-drill"
    assert job["metadata"]["labels"]["backup.homelab/verification"] == "drill"
    assert job["spec"]["schedule"] == drill.schedule.five_field()
    env = _env(job)
    assert {k: env[k] for k in ("GROUP", "DRILL_NODE", "BACKUP_STORAGE", "SCRATCH_VMID", "SCRATCH_POOL",
                                "SCRATCH_STORAGE", "SELECT_VMIDS", "SELECT_NODE", "DRILL_ROTATE",
                                "PVE_TOKEN_ID", "PVE_CA_FILE")} == {
        "GROUP": "infra", "DRILL_NODE": "pve1", "BACKUP_STORAGE": "truenas-backups", "SCRATCH_VMID": "990000",
        "SCRATCH_POOL": "hlb-drill", "SCRATCH_STORAGE": "local-lvm", "SELECT_VMIDS": "100 101",
        "SELECT_NODE": "pve1", "DRILL_ROTATE": "month", "PVE_TOKEN_ID": TOKEN,
        "PVE_CA_FILE": "/etc/proxmox-ca/ca.pem"}
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs == {"PVE_TOKEN_SECRET": {"name": "proxmox-drill-token", "key": "PVE_TOKEN_SECRET"},
                    "HC_URL": {"name": "proxmox-drill-healthchecks", "key": drill.slug}}
    assert job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 2 * 240 * 60 + 600
    quiet = proxmox_drill.drill_cronjob("m", drill, "https://x:8006", TOKEN, pings=False)
    (container,) = quiet["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert "HC_URL" not in {e["name"] for e in container["env"]}


def test_selectors_reach_the_script_as_space_separated_lists(drill):
    every = replace(drill, selection=(("all", 1), ("exclude", "100,101,200")))
    assert proxmox_drill.selection_env(every) == {"SELECT_ALL": "1", "SELECT_EXCLUDE": "100 101 200"}
    assert proxmox_drill.selection_env(replace(drill, selection=(("pool", "media"),))) == {"SELECT_POOL": "media"}


def test_the_rotation_follows_how_often_the_cronjob_runs(drill):
    from plan.cron import Cron

    assert [proxmox_drill.rotation(replace(drill, schedule=cron)) for cron in (
        Cron(60, 24, day_of_month=5), Cron(60, 24, weekday=3), Cron(60, 24))] == ["month", "week", "day"]


@needs_curl
@pytest.mark.parametrize("rotate", ["month", "week", "day"])
def test_without_a_run_number_the_clock_picks_the_guest(drill, pve, hc, pki, shell, rotate):
    job = proxmox_drill.drill_cronjob("monitoring", drill, pve.url, TOKEN, pings=False)
    command, search_path = shell
    env = {"PATH": search_path, **_env(job), "DRILL_ROTATE": rotate, "PVE_CA_FILE": str(pki["ca"]),
           "PVE_TOKEN_SECRET": pve.token_secret, "POLL_SECONDS": "0"}
    result = subprocess.run([*command, "-c", _script(job)], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_script_passes_shellcheck():
    result = subprocess.run(["shellcheck", "--shell=sh", "--severity=style", "-"], input=proxmox_drill.drill_script(),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("drill-pki"))


@pytest.fixture
def pve(pki):
    with GuestSimulator("PVE", token_id=TOKEN, tls=server_context(pki)) as sim:
        sim.add_guest(100, node="pve1")
        sim.add_guest(101, node="pve1", kind="lxc")
        sim.add_guest(300, node="pve2")
        sim.storages |= {"local-lvm"}
        sim.pools.add("hlb-drill")
        sim.add_backup("truenas-backups", 100, ctime=1_760_000_000)
        sim.add_backup("truenas-backups", 100, ctime=1_760_086_400)
        sim.add_backup("truenas-backups", 101, kind="lxc", ctime=1_760_086_500)
        sim.add_backup("truenas-backups", 300, ctime=1_760_086_600)
        yield sim


BUSYBOX_TOOLS = ("sh", "sed", "awk", "grep", "tr", "sort", "cut", "head", "tail", "mktemp", "date", "sleep", "cmp",
                 "wc", "cat", "printf")
"""What the script calls besides curl: on the curl image (Alpine) every one of them is a busybox applet."""


@pytest.fixture(params=["sh", "busybox"])
def shell(request, tmp_path_factory) -> tuple[list[str], str]:
    """The host's /bin/sh (dash) with GNU tools, and busybox ash with busybox's applets (the job image's userland);
    returns the shell command and the PATH to run it with."""
    if request.param == "sh":
        return ["sh"], os.environ["PATH"]
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox is missing: run `bash scripts/services.sh install` (Debian package busybox)")
    tools = tmp_path_factory.mktemp("busybox-bin")
    for tool in BUSYBOX_TOOLS:
        (tools / tool).symlink_to(busybox)
    curl = shutil.which("curl")
    assert curl is not None
    (tools / "curl").symlink_to(curl)
    return [str(tools / "sh")], str(tools)


@pytest.fixture(scope="module")
def hc():
    with FakeHealthchecks() as fake:
        yield fake


def _run(drill, pve, hc, pki, shell, run=0, **overrides):
    job = proxmox_drill.drill_cronjob("monitoring", drill, pve.url, TOKEN, pings=True)
    command, search_path = shell
    env = {"PATH": search_path, **_env(job), "PVE_CA_FILE": str(pki["ca"]), "PVE_TOKEN_SECRET": pve.token_secret,
           "HC_URL": hc.ping_base + drill.slug, "POLL_SECONDS": "0", "DRILL_RUN": str(run), **overrides}
    hc.pings.clear()
    result = subprocess.run([*command, "-c", _script(job)], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    pings = [(p.path.rsplit("/", 1)[-1], p.body) for p in hc.pings]
    assert pve.token_secret not in result.stdout + result.stderr + str(pings)
    return result, pings


def _posts(pve):
    return [(m, p, params) for m, p, params in pve.requests if m != "GET"]


@needs_curl
def test_a_good_drill_restores_the_newest_backup_checks_it_unplugged_and_removes_it(drill, pve, hc, pki, shell):
    result, pings = _run(drill, pve, hc, pki, shell, run=0)
    assert result.returncode == 0, result.stderr
    newest = "truenas-backups:backup/vzdump-qemu-100-2025_10_10-08_53_20.vma.zst"
    assert pings[0] == ("start", "")
    assert pings[1][0] == drill.slug and pings[1][1].startswith(f"restored {newest} (guest 100, qemu) to 990000 in ")
    assert "scsi0 32G" in pings[1][1] and pings[1][1].endswith("removed again")
    (restore, unplug, destroy) = _posts(pve)
    assert restore[:2] == ("POST", "/nodes/pve1/qemu")
    assert {k: restore[2][k] for k in ("vmid", "archive", "storage", "pool", "unique", "start")} == {
        "vmid": "990000", "archive": newest, "storage": "local-lvm", "pool": "hlb-drill", "unique": "1", "start": "0"}
    assert unplug[:2] == ("PUT", "/nodes/pve1/qemu/990000/config") and unplug[2]["net0"].endswith(",link_down=1")
    assert destroy[:2] == ("DELETE", "/nodes/pve1/qemu/990000")
    assert destroy[2] == {"purge": "1", "destroy-unreferenced-disks": "1"}
    assert 990000 not in pve.guests
    assert not [params for _, _, params in pve.requests if "-300-" in str(params)], "guest 300 is on pve2"


@needs_curl
def test_an_interface_saved_with_link_down_0_is_unplugged_without_naming_the_key_twice(drill, pve, hc, pki, shell):
    """PVE refuses `net0: ...,link_down=0,link_down=1`; the drill replaces the explicit 0."""
    pve.backups["truenas-backups"] = [b for b in pve.backups["truenas-backups"] if b["vmid"] != 100]
    pve.add_backup("truenas-backups", 100, ctime=1_760_090_000, config={
        "scsi0": "local-lvm:vm-100-disk-0,size=32G", "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,link_down=0"})
    result, pings = _run(drill, pve, hc, pki, shell, run=0)
    assert result.returncode == 0, result.stderr + str(pings)
    unplug = _posts(pve)[1]
    assert unplug[2]["net0"].split(",").count("link_down=1") == 1 and "link_down=0" not in unplug[2]["net0"]


@needs_curl
def test_the_next_run_drills_the_next_guest_a_container(drill, pve, hc, pki, shell):
    result, pings = _run(drill, pve, hc, pki, shell, run=1)
    assert result.returncode == 0, result.stderr
    assert "(guest 101, lxc)" in pings[-1][1] and "rootfs 8G" in pings[-1][1]
    restore = _posts(pve)[0]
    assert restore[:2] == ("POST", "/nodes/pve1/lxc")
    assert (restore[2]["restore"], restore[2]["unique"], restore[2]["ostemplate"]) == (
        "1", "1", "truenas-backups:backup/vzdump-lxc-101-2025_10_10-08_55_00.tar.zst")
    assert 990000 not in pve.guests


@needs_curl
def test_a_missing_backup_fails_the_drill_and_restores_nothing(drill, pve, hc, pki, shell):
    pve.backups["truenas-backups"] = [b for b in pve.backups["truenas-backups"] if b["vmid"] == 300]
    result, pings = _run(drill, pve, hc, pki, shell)
    assert result.returncode == 1
    assert pings[-1][0] == "fail" and "no backup of these guests on storage truenas-backups" in pings[-1][1]
    assert _posts(pve) == []


@needs_curl
def test_a_failed_restore_task_fails_the_drill_with_its_exit_status_and_leaves_no_guest(drill, pve, hc, pki, shell):
    pve.fail_next_task("qmrestore", "command 'zstd -q -d -c' failed: exit code 1")
    result, pings = _run(drill, pve, hc, pki, shell)
    assert result.returncode == 1
    assert pings[-1][0] == "fail"
    assert "ended with: command 'zstd -q -d -c' failed: exit code 1" in pings[-1][1]
    assert 990000 not in pve.guests


@needs_curl
def test_disks_that_come_back_wrong_fail_the_drill_and_the_clone_is_destroyed(drill, pve, hc, pki, shell):
    pve.resize_next_restore("16G")
    result, pings = _run(drill, pve, hc, pki, shell)
    assert result.returncode == 1
    assert pings[-1][0] == "fail"
    assert "its disks differ from the backup's: expected [scsi0 32G] found [scsi0 16G]" in pings[-1][1]
    assert [p for m, p, _ in pve.requests if m == "DELETE"] == ["/nodes/pve1/qemu/990000"]
    assert 990000 not in pve.guests


@needs_curl
def test_a_scratch_guest_left_by_an_interrupted_drill_is_removed_first(drill, pve, hc, pki, shell):
    pve.add_guest(990000, node="pve1", pool="hlb-drill")
    result, pings = _run(drill, pve, hc, pki, shell)
    assert result.returncode == 0, result.stderr
    methods = [m for m, _, _ in _posts(pve)]
    assert methods == ["DELETE", "POST", "PUT", "DELETE"]


@needs_curl
def test_a_scratch_id_held_by_a_real_guest_is_never_touched(drill, pve, hc, pki, shell):
    pve.add_guest(990000, node="pve1", pool="")
    result, pings = _run(drill, pve, hc, pki, shell)
    assert result.returncode == 1
    assert pings[-1][0] == "fail" and "VM id 990000 is taken by a guest outside pool hlb-drill" in pings[-1][1]
    assert _posts(pve) == [] and 990000 in pve.guests


@needs_curl
def test_a_refused_token_fails_the_drill(drill, pve, hc, pki, shell):
    result, pings = _run(drill, pve, hc, pki, shell, PVE_TOKEN_SECRET="wrong")
    assert result.returncode == 1
    assert pings[-1][0] == "fail" and "HTTP 401" in pings[-1][1] and "authentication failure" in pings[-1][1]


@needs_curl
def test_pool_and_all_selectors_drill_only_their_own_guests(drill, pve, hc, pki, shell):
    pve.pools.add("media")
    pve.guests[101]["pool"] = "media"
    result, pings = _run(replace(drill, selection=(("pool", "media"),)), pve, hc, pki, shell, run=0)
    assert result.returncode == 0, result.stderr
    assert "(guest 101, lxc)" in pings[-1][1]
    for run in (0, 1):
        result, pings = _run(replace(drill, selection=(("all", 1), ("exclude", "100,101"))), pve, hc, pki, shell,
                             run=run)
        assert result.returncode == 0, result.stderr
        assert "(guest 300, qemu)" in pings[-1][1], "the only guest all-but-excluded selects"


@needs_curl
def test_a_restore_still_running_at_the_timeout_fails_and_says_the_locked_clone_needs_a_hand(drill, pve, hc, pki,
                                                                                               shell):
    pve.task_polls = 10**9
    result, pings = _run(drill, pve, hc, pki, shell, TIMEOUT_SECONDS="1", POLL_SECONDS="0.2")
    assert result.returncode == 1
    assert pings[-1][0] == "fail"
    assert "was still running after 1s (proxmox.drill.timeout_minutes)" in pings[-1][1]
    assert "removing scratch guest 990000 failed too" in pings[-1][1] and "VM is locked (create)" in pings[-1][1]
