"""Garage's admin API v2, the part that manages access keys and their bucket permissions, on loopback.

Follows doc/api/garage-admin-v2.json and src/api/admin/{router_v2,key,bucket,error}.rs of Garage v2.0.0, including
the inconvenient parts: the bearer token is checked on every call (403 `AccessDenied`, "Forbidden: ..."); errors are
JSON {code, message, region, path}; a key or bucket that does not exist is 404 `NoSuchAccessKey` / `NoSuchBucket`;
a malformed body is 400 `InvalidRequest`; Garage generates key ids (GK + 24 hex) and secrets (64 hex) and returns the
secret only from CreateKey or GetKeyInfo with showSecretKey=true; key names are labels, not unique; DeleteKey of a
deleted key is 404. `fail_next` makes the next call of one operation answer 500 InternalError (fault injection).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REGION = "garage"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Cluster:
    """What the stand-in holds: buckets by id (with global aliases), keys by id."""

    token: str
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create_bucket(self, alias: str) -> str:
        bucket_id = secrets.token_hex(32)
        self.buckets[bucket_id] = {"alias": alias, "grants": {}}
        return bucket_id

    def bucket(self, query: dict[str, str], body: dict[str, Any] | None = None) -> str:
        wanted_id = (body or {}).get("bucketId") or query.get("id")
        if wanted_id:
            if wanted_id in self.buckets:
                return wanted_id
            raise ApiError(404, "NoSuchBucket", f"Bucket not found: {wanted_id}")
        alias = query.get("globalAlias")
        if alias is None:
            raise ApiError(400, "InvalidRequest", "Bad request: Either id, globalAlias or search must be provided")
        for bucket_id, bucket in self.buckets.items():
            if bucket["alias"] == alias:
                return bucket_id
        raise ApiError(404, "NoSuchBucket", f"Bucket not found: {alias}")

    def key(self, key_id: str | None) -> dict[str, Any]:
        if not key_id:
            raise ApiError(400, "InvalidRequest", "Bad request: Either id or search must be provided")
        key = self.keys.get(key_id)
        if key is None or key["deleted"]:
            raise ApiError(404, "NoSuchAccessKey", f"Access key not found: {key_id}")
        return key

    def key_info(self, key: dict[str, Any], show_secret: bool) -> dict[str, Any]:
        return {
            "accessKeyId": key["id"], "name": key["name"], "created": "2026-01-01T00:00:00Z",
            "expiration": key["expiration"], "expired": False,
            "permissions": {"createBucket": key["createBucket"]},
            "secretAccessKey": key["secret"] if show_secret else None,
            "buckets": [{"id": bucket_id, "globalAliases": [bucket["alias"]], "localAliases": [],
                         "permissions": dict(bucket["grants"][key["id"]])}
                        for bucket_id, bucket in self.buckets.items()
                        if any(bucket["grants"].get(key["id"], {}).values())],
        }

    def bucket_info(self, bucket_id: str) -> dict[str, Any]:
        bucket = self.buckets[bucket_id]
        return {"id": bucket_id, "created": "2026-01-01T00:00:00Z", "globalAliases": [bucket["alias"]],
                "websiteAccess": False, "websiteConfig": None, "objects": 0, "bytes": 0, "unfinishedUploads": 0,
                "unfinishedMultipartUploads": 0, "unfinishedMultipartUploadParts": 0,
                "unfinishedMultipartUploadBytes": 0, "quotas": {"maxSize": None, "maxObjects": None},
                "keys": [{"accessKeyId": key_id, "name": self.keys[key_id]["name"], "permissions": dict(perms),
                          "bucketLocalAliases": []}
                         for key_id, perms in bucket["grants"].items() if any(perms.values())]}

    def apply_key_updates(self, key: dict[str, Any], body: dict[str, Any]) -> None:
        if body.get("name") is not None:
            key["name"] = str(body["name"])
        if (body.get("allow") or {}).get("createBucket"):
            key["createBucket"] = True
        if (body.get("deny") or {}).get("createBucket"):
            key["createBucket"] = False
        if body.get("neverExpires"):
            key["expiration"] = None
        elif body.get("expiration") is not None:
            key["expiration"] = body["expiration"]

    def handle(self, method: str, operation: str, query: dict[str, str], body: Any) -> Any:
        if operation in self.fail_next:
            self.fail_next.discard(operation)
            raise ApiError(500, "InternalError", "Internal error: injected by the stand-in")
        routes = {"GetBucketInfo": "GET", "CreateBucket": "POST", "CreateKey": "POST", "GetKeyInfo": "GET",
                  "UpdateKey": "POST", "DeleteKey": "POST", "AllowBucketKey": "POST", "DenyBucketKey": "POST",
                  "ListKeys": "GET"}
        if routes.get(operation) != method:
            raise ApiError(400, "InvalidRequest", f"Bad request: unknown API endpoint {method} /v2/{operation}")
        if method == "POST" and operation not in ("DeleteKey",) and not isinstance(body, dict):
            raise ApiError(400, "InvalidRequest", "Bad request: invalid JSON body")
        if operation == "GetBucketInfo":
            return self.bucket_info(self.bucket(query))
        if operation == "CreateBucket":
            return self.bucket_info(self.create_bucket(str(body["globalAlias"])))
        if operation == "ListKeys":
            return [{"id": k["id"], "name": k["name"]} for k in self.keys.values() if not k["deleted"]]
        if operation == "CreateKey":
            key = {"id": "GK" + secrets.token_hex(12), "secret": secrets.token_hex(32), "name": "Unnamed key",
                   "createBucket": False, "expiration": None, "deleted": False}
            self.apply_key_updates(key, body)
            self.keys[key["id"]] = key
            return self.key_info(key, show_secret=True)
        if operation == "GetKeyInfo":
            return self.key_info(self.key(query.get("id")), query.get("showSecretKey") == "true")
        if operation == "UpdateKey":
            key = self.key(query.get("id"))
            self.apply_key_updates(key, body)
            return self.key_info(key, show_secret=False)
        if operation == "DeleteKey":
            key = self.key(query.get("id"))
            key["deleted"] = True
            for bucket in self.buckets.values():
                bucket["grants"].pop(key["id"], None)
            return None
        # AllowBucketKey / DenyBucketKey: BucketKeyPermChangeRequest {bucketId, accessKeyId, permissions}
        for required in ("bucketId", "accessKeyId", "permissions"):
            if required not in body:
                raise ApiError(400, "InvalidRequest", f"Bad request: missing field `{required}`")
        bucket_id = self.bucket({}, body)
        key = self.key(body["accessKeyId"])
        grants = self.buckets[bucket_id]["grants"].setdefault(key["id"], {"read": False, "write": False,
                                                                           "owner": False})
        for perm in ("read", "write", "owner"):
            if body["permissions"].get(perm):
                grants[perm] = operation == "AllowBucketKey"
        return self.bucket_info(bucket_id)


class _Handler(BaseHTTPRequestHandler):
    cluster: Cluster

    def log_message(self, *_args: Any) -> None:
        return

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            auth = self.headers.get("Authorization")
            if not auth:
                raise ApiError(403, "AccessDenied", "Forbidden: Bearer token must be provided in Authorization header")
            if auth != f"Bearer {self.cluster.token}":
                raise ApiError(403, "AccessDenied", "Forbidden: Invalid bearer token")
            if not url.path.startswith("/v2/"):
                raise ApiError(400, "InvalidRequest", f"Bad request: unknown API endpoint {url.path}")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise ApiError(400, "InvalidRequest", "Bad request: invalid JSON body") from None
            operation = url.path[len("/v2/"):]
            with self.cluster.lock:
                self.cluster.calls.append(operation)
                result = self.cluster.handle(method, operation, query, body)
            status, payload = 200, result
        except ApiError as exc:
            status = exc.status
            payload = {"code": exc.code, "message": exc.message, "region": REGION, "path": url.path}
        data = b"" if payload is None else json.dumps(payload, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")


@contextmanager
def garage_admin(token: str = "garage-admin-token") -> Iterator[tuple[str, Cluster]]:
    """(admin endpoint, cluster state) of a stand-in on a free loopback port, stopped at the end."""
    cluster = Cluster(token=token)
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", cluster
    finally:
        server.shutdown()
        server.server_close()
