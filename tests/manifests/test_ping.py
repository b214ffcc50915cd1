"""The jobs' Healthchecks ping: a ping that cannot be delivered fails the run, without printing the URL."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from manifests.workloads import PING_FUNCTION
from tests.engine.project import free_port

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the job images ship curl; this host has none")


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


def test_delivered_ping_continues_and_a_refused_one_fails_the_job(healthchecks):
    status, url = healthchecks
    result = _run(url)
    if status == 200:
        assert (result.returncode, result.stdout) == (0, "after-ping\n")
    else:
        assert result.returncode == 1 and "after-ping" not in result.stdout
        assert "Healthchecks ping failed: check monitoring.healthchecks.ping_base" in result.stderr
        assert "ping-key" not in result.stderr


def test_unset_url_pings_nothing():
    script = PING_FUNCTION + '\nping "" "x"\necho after-ping\n'
    result = subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "after-ping\n")
