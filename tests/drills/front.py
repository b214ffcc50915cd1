"""A loopback front for the S3 server: passes bytes through untouched and notes every request's headers.

Why it exists: the drills must show which integrity headers restic and pgBackRest actually send (moto refuses
uploads into a bucket with default object-lock retention unless a request carries Content-MD5 or
x-amz-sdk-checksum-algorithm), and that a read-only drill sends no write at all. With a certificate it also
terminates TLS: pgBackRest talks only HTTPS to S3, and moto's own TLS (Werkzeug) closes connections without a
TLS close_notify, which pgBackRest's OpenSSL 3 reports as "unexpected eof while reading" and retries for a
minute. asyncio closes TLS cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""


@dataclass
class _Parser:
    """Splits a client's byte stream into requests: head, then a Content-Length or chunked body."""

    sink: list[Request]
    buffer: bytes = b""
    body_left: int = 0
    chunked: bool = False
    chunk_left: int = -1
    trailer: bool = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.body_left:
            take = min(self.body_left, len(self.buffer))
            self.buffer, self.body_left = self.buffer[take:], self.body_left - take
            return bool(self.buffer) and not self.body_left
        if self.chunked:
            return self._chunk()
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
        request_line, *lines = head.split("\r\n")
        method, path, *_ = [*request_line.split(" "), "", ""]
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.sink.append(Request(method, path, headers))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            self.chunked, self.chunk_left = True, -1
        else:
            self.body_left = int(headers.get("content-length") or 0)
        return bool(self.buffer)

    def _chunk(self) -> bool:
        if self.chunk_left > 0:
            take = min(self.chunk_left, len(self.buffer))
            self.buffer, self.chunk_left = self.buffer[take:], self.chunk_left - take
            return bool(self.buffer)
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
        if self.chunk_left == 0:  # the CRLF after a chunk's data
            self.chunk_left = -1
            return bool(self.buffer)
        if self.trailer:
            if not line:
                self.chunked = self.trailer = False
            return bool(self.buffer)
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            self.trailer = True
        else:
            self.chunk_left = size
        return bool(self.buffer)


class S3Front:
    """Listen on 127.0.0.1 (plain or TLS) and forward each connection to the S3 server at `upstream_port`."""

    def __init__(self, upstream_port: int, cert: Path | None = None, key: Path | None = None) -> None:
        self.upstream_port = upstream_port
        self.requests: list[Request] = []
        self._ssl: ssl.SSLContext | None = None
        if cert is not None and key is not None:
            self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ssl.load_cert_chain(str(cert), str(key))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="s3-front", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def __enter__(self) -> S3Front:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def endpoint(self) -> str:
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}"

    def mark(self) -> int:
        """A position in the request log; `since(mark)` lists what came after."""
        return len(self.requests)

    def since(self, mark: int) -> list[Request]:
        return list(self.requests[mark:])

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # the event loop keeps only weak references to connection tasks
        task.add_done_callback(self._tasks.discard)
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        parser = _Parser(self.requests)
        await asyncio.gather(self._pump(client_r, up_w, parser), self._pump(up_r, client_w, None),
                             return_exceptions=True)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: _Parser | None) -> None:
        try:
            while data := await reader.read(65536):
                if parser is not None:
                    parser.feed(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()
