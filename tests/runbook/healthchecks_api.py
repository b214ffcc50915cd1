"""A stand-in for the Healthchecks Management API v3 on loopback: `GET /api/v3/checks/` with `X-Api-Key`, answering
the documented check objects (name, slug, status, last_ping, n_pings, ...); a wrong key gets 401 as the real one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HealthchecksApi:
    def __init__(self, api_key: str) -> None:
        self.checks: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                api.requests.append((self.command, self.path))
                if self.headers.get("X-Api-Key") != api_key:
                    self._answer(401, {"error": "wrong api key"})
                elif self.path.split("?")[0] != "/api/v3/checks/":
                    self._answer(404, {"error": "not found"})
                else:
                    self._answer(200, {"checks": api.checks})

            def _answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="healthchecks-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, slug: str, last_ping: str | None, status: str = "up") -> None:
        self.checks.append({"name": slug, "slug": slug, "tags": "", "desc": "", "grace": 3600, "n_pings": 0 if
                            last_ping is None else 3, "status": "new" if last_ping is None else status,
                            "started": False, "last_ping": last_ping, "next_ping": None, "manual_resume": False,
                            "methods": "", "subject": "", "subject_fail": "", "start_kw": "", "success_kw": "",
                            "failure_kw": "", "filter_subject": False, "filter_body": False,
                            "unique_key": f"{abs(hash(slug)):x}", "timeout": 86400})

    def __enter__(self) -> HealthchecksApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
