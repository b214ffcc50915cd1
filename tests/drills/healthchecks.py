"""A stand-in for Healthchecks on loopback: records every ping (method, path, body) and answers 200 OK."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Ping:
    method: str
    path: str
    body: str


class FakeHealthchecks:
    def __init__(self) -> None:
        self.pings: list[Ping] = []
        pings = self.pings

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                pings.append(Ping(self.command, self.path, self.rfile.read(length).decode(errors="replace")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            do_GET = do_POST = do_HEAD = _record

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-healthchecks", daemon=True)

    @property
    def ping_base(self) -> str:
        # Slug pings live under a project ping key, as on a real server.
        return f"http://127.0.0.1:{self._server.server_address[1]}/ping/drill-ping-key/"

    def __enter__(self) -> FakeHealthchecks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
