"""The Proxmox coverage check: its CronJob and Secrets as rendered, and its script run for real (sh and curl)
against the PVE stand-in and a Healthchecks stand-in: success when every guest is in a job, `/fail` naming the
guests otherwise, `/fail` when the API does not answer."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from manifests import proxmox
from manifests.secrets import SecretRef, SecretTemplate
from plan.cron import Cron
from tests.drills.healthchecks import FakeHealthchecks
from tests.proxmox_simulator import ProxmoxSimulator
from tests.truenas_simulator.pki import make_pki, server_context

SLUG = "proxmox-coverage"


def _script(job: dict) -> str:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container["command"][2]


def test_cronjob_reads_the_token_and_ping_url_from_secrets():
    job = proxmox.coverage_cronjob("monitoring", Cron(300), "https://pve1.lan:8006", "audit@pve!coverage", SLUG,
                                   ca_config_map="proxmox-ca")
    assert job["spec"]["schedule"] == "0 5 * * *"
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["PVE_TOKEN_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "proxmox-coverage-token",
                                                                    "key": "PVE_TOKEN_SECRET"}
    assert env["HC_URL"]["valueFrom"]["secretKeyRef"] == {"name": "proxmox-coverage-healthchecks", "key": SLUG}
    assert env["PVE_CA_FILE"]["value"] == "/etc/proxmox-ca/ca.pem"
    assert proxmox.token_secret("monitoring").data == {"PVE_TOKEN_SECRET": SecretRef("token_secret")}
    assert proxmox.ping_secret("monitoring", "https://hc-ping.com/", SLUG).data == {
        SLUG: SecretTemplate("https://hc-ping.com/", SecretRef("ping_key"), f"/{SLUG}")}


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_script_passes_shellcheck():
    text = _script(proxmox.coverage_cronjob("monitoring", Cron(0), "https://x:8006", "a@pve!b", SLUG))
    result = subprocess.run(["shellcheck", "--shell=sh", "--severity=style", "-"], input=text, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("coverage-pki"))
    with ProxmoxSimulator("PVE", tls=server_context(pki)) as pve, FakeHealthchecks() as hc:
        pve.add_guest(100)
        pve.add_guest(101)
        yield pve, hc, pki


def _run(pve, hc, pki, secret=None, trust=None):
    text = _script(proxmox.coverage_cronjob("monitoring", Cron(0), pve.url, pve.token_id, SLUG))
    env = {"PATH": os.environ["PATH"], "PVE_URL": pve.url, "PVE_TOKEN_ID": pve.token_id,
           "PVE_TOKEN_SECRET": secret or pve.token_secret, "HC_URL": hc.ping_base + SLUG,
           **({"PVE_CA_FILE": str(pki["ca"])} if trust is None else trust)}
    hc.pings.clear()
    result = subprocess.run(["sh", "-c", text], env=env, capture_output=True, text=True, timeout=60, check=False)
    return result, [(p.path.rsplit("/", 1)[-1], p.body) for p in hc.pings]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the job image ships curl; this host has none")
def test_uncovered_guests_fail_the_check_by_name(stand_ins):
    pve, hc, pki = stand_ins
    pve.jobs.clear()
    pve.jobs["hlb-a"] = {"vmid": "100", "schedule": "21:00", "storage": "nas", "enabled": 1}
    result, pings = _run(pve, hc, pki)
    assert result.returncode == 1
    assert pings[0] == ("start", "")
    assert pings[1][0] == "fail" and '"vmid":101' in pings[1][1], pings


@pytest.mark.skipif(shutil.which("curl") is None, reason="the job image ships curl; this host has none")
def test_every_guest_covered_pings_success(stand_ins):
    pve, hc, pki = stand_ins
    pve.jobs.clear()
    pve.jobs["hlb-all"] = {"all": 1, "schedule": "21:00", "storage": "nas", "enabled": 1}
    result, pings = _run(pve, hc, pki)
    assert result.returncode == 0, result.stderr
    assert pings == [("start", ""), (SLUG, "every guest is in a backup job")]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the job image ships curl; this host has none")
def test_a_refused_token_fails_the_check_without_printing_it(stand_ins):
    pve, hc, pki = stand_ins
    result, pings = _run(pve, hc, pki, secret="wrong-secret")
    assert result.returncode == 1
    assert pings[-1][0] == "fail" and "did not answer" in pings[-1][1]
    assert "wrong-secret" not in result.stdout + result.stderr + str(pings)


def test_verify_tls_false_renders_an_insecure_client_and_no_ca():
    job = proxmox.coverage_cronjob("monitoring", Cron(0), "https://pve1.lan:8006", "a@pve!b", SLUG, verify_tls=False)
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PVE_TLS_INSECURE"] == "1" and "PVE_CA_FILE" not in env


@pytest.mark.skipif(shutil.which("curl") is None, reason="the job image ships curl; this host has none")
def test_the_private_ca_is_needed_unless_verification_is_off(stand_ins):
    """Without the CA curl refuses the simulator's certificate (a check that cannot reach PVE fails); with
    `verify_tls: false` rendered as PVE_TLS_INSECURE it answers as with the CA."""
    pve, hc, pki = stand_ins
    pve.jobs.clear()
    pve.jobs["hlb-all"] = {"all": 1, "schedule": "21:00", "storage": "nas", "enabled": 1}
    untrusted, pings = _run(pve, hc, pki, trust={})
    assert untrusted.returncode == 1 and pings[-1][0] == "fail" and "did not answer" in pings[-1][1]
    insecure, pings = _run(pve, hc, pki, trust={"PVE_TLS_INSECURE": "1"})
    assert insecure.returncode == 0, insecure.stderr
    assert pings == [("start", ""), (SLUG, "every guest is in a backup job")]
