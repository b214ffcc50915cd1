"""A loopback stand-in of the 1Password Connect REST API, for the escrow provider and its tests.

It answers the requests the official SDK (`onepasswordconnectsdk`, client.py) makes, in the shapes the published
Connect API reference gives (developer.1password.com/docs/connect/connect-api-reference/, API v1):

- `Authorization: Bearer <token>` on every `/v1` request; a missing or unknown token answers 401, a token without
  access to the vault (or read-only access for a write) 403. Errors are `{"status": <code>, "message": ...}`.
- `GET /v1/vaults` (optional `filter=name eq "<name>"`), `GET /v1/vaults/{vaultUUID}`.
- `GET /v1/vaults/{vaultUUID}/items` (optional `filter=title eq "<title>"`): item summaries, without fields.
- `POST /v1/vaults/{vaultUUID}/items`, `GET|PUT|DELETE /v1/vaults/{vaultUUID}/items/{itemUUID}`: full items with
  `fields` (`id`, `label`, `type`, `purpose`, `value`); ids are 26 lowercase letters and digits, `version` counts
  writes, `createdAt`/`updatedAt` are RFC 3339; a body whose `vault.id` or `id` disagrees with the path, or an
  unknown category or field type, answers 400; DELETE answers 204.
- A SECURE_NOTE gets the built-in `notesPlain` field (purpose NOTES) when the body has none, as 1Password does.
- `GET /heartbeat` (no token).

The stand-in keeps everything in memory; `ServerThread` runs it on a free loopback port for one test module.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CATEGORIES = {"LOGIN", "PASSWORD", "API_CREDENTIAL", "SERVER", "DATABASE", "CREDIT_CARD", "MEMBERSHIP", "PASSPORT",
              "SOFTWARE_LICENSE", "OUTDOOR_LICENSE", "SECURE_NOTE", "WIRELESS_ROUTER", "BANK_ACCOUNT",
              "DRIVER_LICENSE", "IDENTITY", "REWARD_PROGRAM", "DOCUMENT", "EMAIL_ACCOUNT", "SOCIAL_SECURITY_NUMBER",
              "MEDICAL_RECORD", "SSH_KEY", "CUSTOM"}
FIELD_TYPES = {"STRING", "EMAIL", "CONCEALED", "URL", "TOTP", "DATE", "MONTH_YEAR", "MENU"}
_FILTER = re.compile(r'^(title|name) eq "(.*)"$')
_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Connect:
    """The state behind the API: vaults, their items, and which token may read or write which vault."""

    vaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    """Token -> vault id -> `rw` or `r`."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(method, path) of every request, for tests that count round trips."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_vault(self, name: str) -> str:
        vault_id = new_id()
        self.vaults[vault_id] = {"id": vault_id, "name": name, "description": "", "attributeVersion": 1,
                                 "contentVersion": 1, "items": 0, "type": "USER_CREATED", "createdAt": _now(),
                                 "updatedAt": _now()}
        self.items[vault_id] = {}
        return vault_id

    def grant(self, token: str, vault_id: str, access: str = "rw") -> None:
        self.tokens.setdefault(token, {})[vault_id] = access

    def handle(self, method: str, path: str, query: dict[str, list[str]], token: str | None,
               body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
            if path == "/heartbeat":
                return 200, "."
            if token is None or token not in self.tokens:
                raise ApiError(401, "Invalid token signature")
            parts = [p for p in path.split("/") if p]
            if parts[:2] != ["v1", "vaults"]:
                raise ApiError(404, f"no such endpoint {path}")
            grants = self.tokens[token]
            if len(parts) == 2 and method == "GET":
                found = [v for v in self.vaults.values() if v["id"] in grants]
                return 200, self._filtered(found, query, "name")
            vault_id = parts[2]
            if vault_id not in self.vaults:
                raise ApiError(404, "Invalid Vault UUID")
            if vault_id not in grants:
                raise ApiError(403, "Authorization: Token does not have access to vault")
            if len(parts) == 3 and method == "GET":
                return 200, self.vaults[vault_id] | {"items": len(self.items[vault_id])}
            if len(parts) < 4 or parts[3] != "items":
                raise ApiError(404, f"no such endpoint {path}")
            if method != "GET" and grants[vault_id] != "rw":
                raise ApiError(403, "Authorization: Token does not have write access to vault")
            vault_items = self.items[vault_id]
            if len(parts) == 4:
                if method == "GET":
                    summaries = [{k: v for k, v in item.items() if k not in ("fields", "sections")}
                                 for item in vault_items.values()]
                    return 200, self._filtered(summaries, query, "title")
                if method == "POST":
                    item = self._valid_item(body, vault_id, None)
                    item |= {"id": new_id(), "version": 1, "createdAt": _now(), "updatedAt": _now()}
                    vault_items[item["id"]] = item
                    return 200, item
            if len(parts) == 5:
                item_id = parts[4]
                if item_id not in vault_items:
                    raise ApiError(404, "item not found")
                if method == "GET":
                    return 200, vault_items[item_id]
                if method == "PUT":
                    old = vault_items[item_id]
                    item = self._valid_item(body, vault_id, item_id)
                    item |= {"id": item_id, "version": old["version"] + 1, "createdAt": old["createdAt"],
                             "updatedAt": _now()}
                    vault_items[item_id] = item
                    return 200, item
                if method == "DELETE":
                    del vault_items[item_id]
                    return 204, None
            raise ApiError(405, f"{method} is not allowed on {path}")

    @staticmethod
    def _filtered(found: list[dict[str, Any]], query: dict[str, list[str]], attribute: str) -> list[dict[str, Any]]:
        expression = (query.get("filter") or [None])[0]
        if expression is None:
            return found
        match = _FILTER.match(expression)
        if not match or match.group(1) != attribute:
            raise ApiError(400, f"Invalid filter: {expression}")
        return [f for f in found if f.get(attribute) == match.group(2)]

    @staticmethod
    def _valid_item(body: Any, vault_id: str, item_id: str | None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid item: expected a JSON object")
        if (body.get("vault") or {}).get("id") != vault_id:
            raise ApiError(400, "Invalid item: vault.id does not match the vault in the path")
        if item_id is not None and body.get("id") not in (None, item_id):
            raise ApiError(400, "Invalid item: id does not match the item in the path")
        if body.get("category") not in CATEGORIES:
            raise ApiError(400, f"Invalid item category: {body.get('category')!r}")
        fields = []
        for entry in body.get("fields") or []:
            if entry.get("type", "STRING") not in FIELD_TYPES:
                raise ApiError(400, f"Invalid field type: {entry.get('type')!r}")
            fields.append({"id": entry.get("id") or new_id(), "type": entry.get("type", "STRING"),
                           "purpose": entry.get("purpose") or "", "label": entry.get("label") or "",
                           "value": entry.get("value")})
        if body["category"] == "SECURE_NOTE" and not any(f["purpose"] == "NOTES" for f in fields):
            fields.insert(0, {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain",
                              "value": ""})
        return {"title": body.get("title") or "", "vault": {"id": vault_id}, "category": body["category"],
                "tags": list(body.get("tags") or []), "favorite": bool(body.get("favorite")),
                "fields": fields, "lastEditedBy": "standin"}


def _handler(connect: Connect) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    raise ApiError(400, "Invalid JSON body") from None
                status, payload = connect.handle(method, url.path, parse_qs(url.query), token, body)
            except ApiError as exc:
                status, payload = exc.status, {"status": exc.status, "message": exc.message}
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's method names)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._serve("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


class ServerThread:
    """The stand-in on 127.0.0.1 and a free port, in a daemon thread; `stop()` ends it."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(connect))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serving(token: str, vault: str = "homelab") -> Iterator[tuple[ServerThread, str]]:
    """A running stand-in with one vault that `token` may read and write: (server, vault id); stopped on exit."""
    state = Connect()
    vault_id = state.add_vault(vault)
    state.grant(token, vault_id)
    server = ServerThread(state).start()
    try:
        yield server, vault_id
    finally:
        server.stop()
