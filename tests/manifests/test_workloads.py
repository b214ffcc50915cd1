"""manifests/workloads.py: the shell the jobs run and how they report.

The script files (manifests/scripts/*.sh, joined by the builders) pass shellcheck as rendered: every distinct
script of the rendered test estate (checks, drills, exports, VolSync drill checks) is linted exactly as a container
runs it (`/bin/sh -c`), so a fragment is checked together with the ping function and report tail it is joined
with. shellcheck comes from Debian (scripts/services.sh installs it): without it the test fails.

The jobs' Healthchecks ping: a ping that cannot be delivered fails the run, without printing the URL.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from inventory import load_inventory
from manifests import proxmox_drill
from manifests.workloads import PING_FUNCTION, SCRIPTS, script
from plan import build_plan
from tests.engine.project import free_port
from tests.manifests import dbs_estate, estate
from tests.proxmox_estate import PROXMOX

ACCEPTED = {
    "SC2010": "ls | grep on dump names this program writes itself (`<dataset>-<UTC stamp>.<ext>`, anchored pattern): "
              "no name can hold a newline or a glob character",
    "SC2015": "`A && B || fail`: `fail` exits, so it runs exactly when A or B failed",
}
"""Findings accepted on purpose, each with the reason; every other finding, of any severity, fails the test."""


def _guest_drills() -> list[dict[str, Any]]:
    """The guest restore drill CronJobs (manifests/proxmox_drill.py) of the seed Proxmox section."""
    raw = {**copy.deepcopy(estate.RAW), "proxmox": {**copy.deepcopy(PROXMOX), "drill": {"token_id": "d@pve!r"}}}
    plan = build_plan(load_inventory(raw)).proxmox
    assert plan is not None and plan.drills
    return [proxmox_drill.drill_cronjob("monitoring", d, "https://pve1.lan:8006", "d@pve!r", True)
            for d in plan.drills]


def _scripts() -> dict[str, str]:
    """Distinct script text -> the first object that runs it."""
    found: dict[str, str] = {}
    for obj in [*estate.rendered().objects(), *dbs_estate.objects(), *_guest_drills()]:
        spec = obj.get("spec", {})
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod = spec.get("template", {}).get("spec", {})
        for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
            command = container.get("command", [])
            if command[:2] == ["/bin/sh", "-c"]:
                found.setdefault(command[2], f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    return found


def _shellcheck(text: str) -> list[dict[str, Any]]:
    binary = shutil.which("shellcheck")
    assert binary, "shellcheck is missing: run `bash scripts/services.sh install` (Debian package shellcheck)"
    result = subprocess.run([binary, "--shell=sh", "--severity=style", "--format=json1",
                             f"--exclude={','.join(c.removeprefix('SC') for c in ACCEPTED)}", "-"],
                            input=text, capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout or '{"comments": []}')["comments"]


SCRIPTS_RENDERED = _scripts()


@pytest.mark.parametrize("text", list(SCRIPTS_RENDERED), ids=list(SCRIPTS_RENDERED.values()))
def test_every_rendered_script_passes_shellcheck(text: str) -> None:
    findings = [f"line {c['line']}: SC{c['code']} {c['level']}: {c['message']}" for c in _shellcheck(text)]
    assert findings == [], "\n".join(findings)


def test_the_estate_runs_every_script_file() -> None:
    rendered = "\n".join(SCRIPTS_RENDERED)
    unused = [p.name for p in sorted(SCRIPTS.glob("*.sh"))
              if p.stem != "report" and script(p.stem).strip() not in rendered]
    assert unused == [], "script files no builder renders"
    assert len(SCRIPTS_RENDERED) >= 10


def test_shellcheck_reports_a_broken_script() -> None:
    findings = _shellcheck('if [ "$x" = 1 ]; then\n  echo $unquoted\n')
    assert {c["level"] for c in findings} >= {"error"}, findings


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the job images ship curl; this host has none")


def _run(url: str) -> subprocess.CompletedProcess:
    script = PING_FUNCTION + '\nping "" "backup ok"\necho after-ping\n'
    return subprocess.run(["sh", "-c", script], env={"HC_URL": url, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60)


class _Answer(BaseHTTPRequestHandler):
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's method name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(params=[200, 404])
def healthchecks(request):
    handler = type("Answer", (_Answer,), {"status": request.param})
    server = HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield request.param, f"http://127.0.0.1:{server.server_port}/ping-key/backup-x"
    server.shutdown()
    server.server_close()


@needs_curl
def test_delivered_ping_continues_and_a_refused_one_fails_the_job(healthchecks):
    status, url = healthchecks
    result = _run(url)
    if status == 200:
        assert (result.returncode, result.stdout) == (0, "after-ping\n")
    else:
        assert result.returncode == 1 and "after-ping" not in result.stdout
        assert "Healthchecks ping failed: check monitoring.healthchecks.ping_base" in result.stderr
        assert "ping-key" not in result.stderr


@needs_curl
def test_unset_url_pings_nothing():
    script = PING_FUNCTION + '\nping "" "x"\necho after-ping\n'
    result = subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "after-ping\n")
