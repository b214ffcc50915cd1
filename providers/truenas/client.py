"""Synchronous JSON-RPC 2.0 client for the TrueNAS WebSocket API (25.04+).

The REST API (`/api/v2.0`) is deprecated in 25.04 and removed in 26.04, so this client only speaks JSON-RPC over
`wss://HOST/api/current` (or a pinned `/api/vXX.YY.Z`). One `TrueNASClient` is one connection for one batch of calls:
open it with `with`, call, close. Nothing here knows about Pulumi; the dynamic providers translate its errors.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from websockets.client import ClientProtocol

# websockets is imported by the methods that talk to the NAS: the program that declares TrueNAS resources and the
# provider's check and diff never open a connection.

__all__ = [
    "ConnectionSettings",
    "TrueNASAuthError",
    "TrueNASCallError",
    "TrueNASClient",
    "TrueNASError",
    "TrueNASTLSError",
    "TrueNASTimeout",
    "TrueNASUnreachable",
    "TrueNASValidationError",
    "ValidationIssue",
    "connection_problems",
]

JSONRPC_INVALID_PARAMS = -32602
JSONRPC_METHOD_NOT_FOUND = -32601
TRUENAS_CALL_ERROR = -32001
TRUENAS_TOO_MANY_CALLS = -32000
ENOTAUTHENTICATED = 207
"""TrueNAS' own errno for a call made before a successful login (truenas_api_client ErrnoMixin)."""

_API_PATH = re.compile(r"^/api/(current|v\d+\.\d+(\.\d+)*)$")
MAX_MESSAGE_BYTES = 16 * 2**20
_ERRNAME_PREFIX = re.compile(r"^\[E[A-Z_]+\]\s*")
CONNECTION_KEYS = frozenset({"url", "api_key", "verify_tls", "ca_file", "ca_pem", "connect_timeout", "call_timeout"})


class TrueNASError(Exception):
    """Base of every failure this client reports; messages never contain the API key or call parameters."""


class TrueNASUnreachable(TrueNASError):
    """No usable connection: refused, DNS failure, dropped mid-call, or the WebSocket handshake was rejected."""


class TrueNASTimeout(TrueNASUnreachable):
    """The NAS did not answer within the connect or call timeout; the call may or may not have been applied."""


class TrueNASTLSError(TrueNASError):
    """The NAS certificate could not be verified; distinct from unreachable because retrying will not help."""


class TrueNASAuthError(TrueNASError):
    """The API key was rejected, or a call was made on a session that is not logged in."""


class ValidationIssue(NamedTuple):
    """One entry of a -32602 error's `data.extra`: the attribute path, the message and the errno."""

    field: str
    message: str
    errno: int


class TrueNASValidationError(TrueNASError):
    """JSON-RPC -32602: the middleware refused the parameters; `errors` holds (field path, message) pairs."""

    def __init__(self, method: str, issues: list[ValidationIssue]) -> None:
        self.method = method
        self.issues = issues
        listed = "; ".join(f"{i.field or '(record)'}: {i.message}" for i in issues) or "no details given"
        super().__init__(f"{method} rejected the request: {listed}")

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(field path, message) pairs, e.g. ("data.naming_schema", "Value error, %Y must be present ...")."""
        return [(i.field, i.message) for i in self.issues]

    @property
    def not_found(self) -> bool:
        """True when the middleware said the object id does not exist (InstanceNotFound, ENOENT)."""
        return any(i.errno == errno.ENOENT and "does not exist" in i.message for i in self.issues)


class TrueNASCallError(TrueNASError):
    """JSON-RPC -32001 (CallError) or any other non-validation error answer."""

    def __init__(self, method: str, code: int, errno_: int | None, errname: str, reason: str) -> None:
        self.method = method
        self.code = code
        self.errno = errno_
        self.errname = errname
        self.reason = reason
        super().__init__(f"{method} failed ({errname or code}): {reason}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connection_problems(raw: Any) -> list[tuple[str, str]]:
    """Every problem with a `connection` dict as (key, message) pairs; messages never echo the API key."""
    if not isinstance(raw, Mapping):
        return [("connection", "must be a dict with url and api_key (pass it as a Pulumi secret)")]
    problems: list[tuple[str, str]] = []
    for key in sorted(set(raw) - CONNECTION_KEYS):
        problems.append((f"connection.{key}", f"unknown key; allowed: {', '.join(sorted(CONNECTION_KEYS))}"))
    url = raw.get("url")
    if not isinstance(url, str) or not url:
        problems.append(("connection.url", "required, e.g. wss://nas.lan/api/current"))
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("wss", "ws") or not parts.hostname:
            problems.append(("connection.url", "must be wss://HOST/api/current (the REST /api/v2.0 is not supported)"))
        elif parts.scheme == "ws" and not _is_loopback(parts.hostname):
            problems.append(
                (
                    "connection.url",
                    "plain ws:// is only allowed for loopback tests; TrueNAS revokes API keys sent "
                    "without TLS, so use wss://",
                )
            )
        elif not _API_PATH.match(parts.path):
            problems.append(
                (
                    "connection.url",
                    f"path {parts.path or '/'!r} is not a JSON-RPC endpoint; use /api/current or a "
                    "pinned version such as /api/v25.04.0",
                )
            )
    api_key = raw.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        problems.append(("connection.api_key", "required: a TrueNAS API key (Credentials > API Keys), as a secret"))
    if not isinstance(raw.get("verify_tls", True), bool):
        problems.append(("connection.verify_tls", "must be true or false"))
    for key in ("ca_file", "ca_pem"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            problems.append((f"connection.{key}", "must be a string"))
    for key in ("connect_timeout", "call_timeout"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
            problems.append((f"connection.{key}", "must be a positive number of seconds"))
    return problems


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to reach one NAS. `api_key` is excluded from repr so it never lands in logs or tracebacks."""

    url: str
    api_key: str = field(repr=False)
    verify_tls: bool = True
    ca_file: str | None = None
    ca_pem: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0
    call_timeout: float = 60.0

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ConnectionSettings:
        """Build from the provider's `connection` input; raises ValueError naming each bad key."""
        problems = connection_problems(raw)
        if problems:
            raise ValueError("; ".join(f"{key}: {msg}" for key, msg in problems))
        return cls(
            url=raw["url"],
            api_key=raw["api_key"],
            verify_tls=raw.get("verify_tls", True),
            ca_file=raw.get("ca_file"),
            ca_pem=raw.get("ca_pem"),
            connect_timeout=float(raw.get("connect_timeout") or 10.0),
            call_timeout=float(raw.get("call_timeout") or 60.0),
        )

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS settings for wss://: verification on by default, optionally pinned to a private CA."""
        if urlsplit(self.url).scheme != "wss":
            return None
        if not self.verify_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        try:
            return ssl.create_default_context(cafile=self.ca_file, cadata=self.ca_pem)
        except (OSError, ssl.SSLError) as exc:
            raise TrueNASTLSError(f"cannot load the CA bundle given in connection.ca_file/ca_pem: {exc}") from None


class _ConnectionLost(Exception):
    """The peer closed or reset the connection."""


class TrueNASClient:
    """One logged-in JSON-RPC session; use as a context manager so the socket is always closed.

    The WebSocket runs on websockets' protocol implementation (`ClientProtocol`), driven from the calling thread
    only. websockets' threaded sync connection (17.4) reads the TLS socket from a background thread while the caller
    writes to it, and waits on `select()`, which cannot see bytes OpenSSL already buffered: over TLS it hung a
    handshake or failed with "[SSL] internal error" about once in a thousand connections. One thread per socket has
    neither problem.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._sock: socket.socket | None = None
        self._protocol: ClientProtocol | None = None
        self._events: deque[Any] = deque()
        self._next_id = 0

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect (TCP, TLS, WebSocket upgrade) and log in with the API key."""
        from websockets.client import ClientProtocol
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.http11 import Response
        from websockets.uri import parse_uri

        s = self.settings
        deadline = time.monotonic() + s.connect_timeout
        try:
            uri = parse_uri(s.url)
            context = s.ssl_context()
            # A direct connection: the NAS is on the LAN, so no HTTP(S)_PROXY meant for the internet applies.
            self._sock = socket.create_connection((uri.host, uri.port), timeout=s.connect_timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
            if context is not None:
                self._sock = context.wrap_socket(self._sock, server_hostname=uri.host)
            self._protocol = ClientProtocol(uri, max_size=MAX_MESSAGE_BYTES)
            self._protocol.send_request(self._protocol.connect())
            self._flush(deadline)
            while not isinstance(self._event(deadline), Response):
                pass
            if self._protocol.handshake_exc is not None:
                raise self._protocol.handshake_exc
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise TrueNASTLSError(
                f"TLS verification of {s.host} failed ({exc.verify_message}); give the CA that signed the NAS "
                "certificate as connection.ca_file, or install a certificate for this host name on the NAS"
            ) from None
        except TimeoutError:
            self.close()
            raise TrueNASTimeout(f"{s.host} did not complete the connection within {s.connect_timeout:g}s") from None
        except InvalidStatus as exc:
            self.close()
            raise TrueNASUnreachable(
                f"{s.host} refused the WebSocket handshake with HTTP {exc.response.status_code}; the JSON-RPC API "
                "needs TrueNAS 25.04 or later and a version path it serves (/api/current)"
            ) from None
        except (OSError, WebSocketException, _ConnectionLost) as exc:
            self.close()
            raise TrueNASUnreachable(f"cannot connect to {s.host}: {exc or 'connection closed'}") from None
        try:
            accepted = self.call("auth.login_with_api_key", s.api_key)
        except BaseException:
            self.close()
            raise
        if accepted is not True:
            self.close()
            raise TrueNASAuthError(
                f"{s.host} rejected the API key; create one under Credentials > API Keys (or check it was not "
                "revoked or expired) and update connection.api_key"
            )

    def close(self) -> None:
        """Send a close frame if possible and drop the socket; never raises."""
        from websockets.protocol import State

        sock, protocol = self._sock, self._protocol
        self._sock, self._protocol = None, None
        self._events.clear()
        if sock is None:
            return
        with contextlib.suppress(Exception):
            if protocol is not None and protocol.state is State.OPEN:
                protocol.send_close()
                sock.settimeout(1)
                for data in protocol.data_to_send():
                    if data:
                        sock.sendall(data)
        with contextlib.suppress(OSError):
            sock.close()

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """Call one method and return its result, mapping error answers to the TrueNAS* exceptions."""
        from websockets.exceptions import WebSocketException

        if self._sock is None or self._protocol is None:
            raise TrueNASUnreachable(f"no open connection to {self.settings.host} for {method}")
        self._next_id += 1
        call_id = self._next_id
        limit = self.settings.call_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        request = json.dumps({"jsonrpc": "2.0", "id": call_id, "method": method, "params": list(params)})
        try:
            self._protocol.send_text(request.encode())
            self._flush(deadline)
            while True:
                message = json.loads(self._text(deadline))
                if isinstance(message, dict) and message.get("id") == call_id:
                    break
        except TimeoutError:
            self.close()
            raise TrueNASTimeout(
                f"no reply to {method} from {self.settings.host} within {limit:g}s; the call may still be applied"
            ) from None
        except (OSError, WebSocketException, _ConnectionLost):
            self.close()
            raise TrueNASUnreachable(f"the connection to {self.settings.host} dropped during {method}") from None
        except ValueError as exc:
            self.close()
            raise TrueNASError(f"{self.settings.host} sent a reply to {method} that is not JSON: {exc}") from None
        if "error" in message:
            raise _error_from(method, message["error"])
        return message.get("result")

    # transport

    def _flush(self, deadline: float) -> None:
        assert self._sock is not None and self._protocol is not None
        for data in self._protocol.data_to_send():
            if data:
                self._sock.settimeout(_remaining(deadline))
                self._sock.sendall(data)

    def _event(self, deadline: float) -> Any:
        """The next protocol event (handshake response or frame), reading from the socket as needed."""
        assert self._sock is not None and self._protocol is not None
        while not self._events:
            self._sock.settimeout(_remaining(deadline))
            data = self._sock.recv(65536)
            if data:
                self._protocol.receive_data(data)
            else:
                self._protocol.receive_eof()
            self._flush(deadline)
            self._events.extend(self._protocol.events_received())
            if not data and not self._events:
                raise _ConnectionLost("connection closed by the NAS")
        return self._events.popleft()

    def _text(self, deadline: float) -> str:
        """The next complete text message; pings are answered by the protocol, other frames skipped."""
        from websockets.frames import Frame, Opcode

        parts: list[bytes] = []
        while True:
            frame = self._event(deadline)
            if not isinstance(frame, Frame):
                continue
            if frame.opcode is Opcode.CLOSE:
                raise _ConnectionLost("the NAS closed the connection")
            if frame.opcode is Opcode.TEXT or (frame.opcode is Opcode.CONT and parts):
                parts.append(frame.data)
                if frame.fin:
                    return b"".join(parts).decode()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _error_from(method: str, error: Mapping[str, Any]) -> TrueNASError:
    code = int(error.get("code", 0))
    data = error.get("data") if isinstance(error.get("data"), Mapping) else {}
    if code == JSONRPC_INVALID_PARAMS:
        issues = [
            ValidationIssue(str(item[0]) if item[0] is not None else "", str(item[1]), int(item[2]))
            for item in data.get("extra") or []
            if isinstance(item, list | tuple) and len(item) >= 3
        ]
        if not issues:
            issues = [
                ValidationIssue(
                    "", _ERRNAME_PREFIX.sub("", str(data.get("reason") or error.get("message"))), errno.EINVAL
                )
            ]
        return TrueNASValidationError(method, issues)
    errno_ = data.get("error")
    if errno_ == ENOTAUTHENTICATED:
        return TrueNASAuthError(f"{method} was refused because the session is not authenticated")
    reason = _ERRNAME_PREFIX.sub("", str(data.get("reason") or error.get("message") or "no reason given"))
    if code == JSONRPC_METHOD_NOT_FOUND:
        reason = f"{reason}: this TrueNAS version or API path does not offer {method}"
    return TrueNASCallError(
        method, code, errno_ if isinstance(errno_, int) else None, str(data.get("errname", "")), reason.strip()
    )
