"""Ceph RGW on loopback: the admin ops user API and the S3 calls that bucket policies govern.

Follows doc/radosgw/adminops.rst and doc/radosgw/bucketpolicy.rst, including the inconvenient parts: every request
is signed like S3 (AWS SigV4, checked here: an unknown key is 403 InvalidAccessKeyId, a bad signature 403
SignatureDoesNotMatch); admin ops need the caller's `users` cap (403 AccessDenied otherwise) and answer errors as JSON
{Code, RequestId, HostId} (404 NoSuchUser, 409 UserAlreadyExists); S3 errors are XML; RGW generates access keys (20
upper-case characters) and secrets (40); a user with max-buckets < 0 cannot create buckets; only a bucket's owner
reads or writes its policy (NoSuchBucketPolicy when there is none); anyone else's object calls are allowed only by an
Allow statement of the bucket policy naming them (`arn:aws:iam:::user/<uid>`), the action and the object ARN.
Statements with a Condition (the ListBucket ones) are not evaluated here and never allow anything.
"""

from __future__ import annotations

import fnmatch
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
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?"
                   r"SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})")


class RgwError(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


@dataclass
class Gateway:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, uid: str, caps: list[dict[str, str]] | None = None, max_buckets: int = 1000,
                 access_key: str | None = None, secret_key: str | None = None) -> dict[str, Any]:
        user = {"user_id": uid, "display_name": uid, "email": "", "suspended": 0, "max_buckets": max_buckets,
                "subusers": [], "keys": [], "swift_keys": [], "caps": list(caps or []),
                "op_mask": "read, write, delete"}
        self.users[uid] = user
        self.new_key(user, access_key, secret_key)
        return user

    @staticmethod
    def new_key(user: dict[str, Any], access_key: str | None = None, secret_key: str | None = None) -> None:
        alphabet = string.ascii_uppercase + string.digits
        user["keys"].append({
            "user": user["user_id"],
            "access_key": access_key or "".join(secrets.choice(alphabet) for _ in range(20)),
            "secret_key": secret_key or "".join(secrets.choice(string.ascii_letters + string.digits + "+/")
                                                for _ in range(40))})

    def owner_of(self, access_key: str) -> tuple[dict[str, Any], str] | None:
        for user in self.users.values():
            for key in user["keys"]:
                if key["access_key"] == access_key:
                    return user, key["secret_key"]
        return None

    def authenticate(self, method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        match = _AUTH.fullmatch(headers.get("authorization", ""))
        if not match:
            raise RgwError(403, "AccessDenied")
        access_key, _date, region, signed, signature = match.groups()
        found = self.owner_of(access_key)
        if found is None:
            raise RgwError(403, "InvalidAccessKeyId")
        user, secret_key = found
        request = AWSRequest(method=method, url=url, data=body,
                             headers={h: headers.get(h, "") for h in signed.split(";")})
        request.context["timestamp"] = headers.get("x-amz-date", "")
        auth = S3SigV4Auth(Credentials(access_key, secret_key), "s3", region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        if not secrets.compare_digest(expected, signature):
            raise RgwError(403, "SignatureDoesNotMatch")
        if user["suspended"]:
            raise RgwError(403, "UserSuspended")
        return user

    # admin ops -------------------------------------------------------------------------------

    @staticmethod
    def _cap(user: dict[str, Any], kind: str, need: str) -> None:
        perms = {c["perm"] for c in user["caps"] if c["type"] == kind}
        if not ({"*", need} & perms or (need == "read" and "read, write" in perms)):
            raise RgwError(403, "AccessDenied")

    def admin_user(self, caller: dict[str, Any], method: str, args: dict[str, str]) -> Any:
        self._cap(caller, "users", "read" if method == "GET" else "write")
        uid = args.get("uid")
        if not uid:
            raise RgwError(400, "InvalidArgument")
        user = self.users.get(uid)
        if method == "PUT" and "caps" not in args and "subuser" not in args and "key" not in args:
            if user is not None:
                raise RgwError(409, "UserAlreadyExists")
            if not args.get("display-name"):
                raise RgwError(400, "InvalidArgument")
            user = self.add_user(uid, max_buckets=int(args.get("max-buckets", 1000)))
            user["display_name"] = args["display-name"]
            if args.get("generate-key") == "false":
                user["keys"].clear()
            return user
        if user is None:
            raise RgwError(404, "NoSuchUser")
        if method == "GET":
            return user
        if "caps" in args:
            wanted = [c.split("=", 1) for c in args.get("user-caps", "").split(";") if "=" in c]
            if method == "PUT":
                user["caps"] += [{"type": t.strip(), "perm": p.strip()} for t, p in wanted]
            else:
                user["caps"] = [c for c in user["caps"] if [c["type"], c["perm"]] not in
                                [[t.strip(), p.strip()] for t, p in wanted]]
            return user["caps"]
        if "subuser" in args:
            if method == "PUT":
                user["subusers"].append({"id": f"{uid}:{args['subuser']}", "permissions": args.get("access", "")})
            else:
                user["subusers"] = [s for s in user["subusers"] if s["id"] not in (args["subuser"],
                                                                                  f"{uid}:{args['subuser']}")]
            return None
        if "key" in args:
            if method == "PUT":
                self.new_key(user)
                return user["keys"]
            before = len(user["keys"])
            user["keys"] = [k for k in user["keys"] if k["access_key"] != args.get("access-key")]
            if len(user["keys"]) == before:
                raise RgwError(404, "InvalidAccessKeyId")
            return None
        if method == "POST":
            if "max-buckets" in args:
                user["max_buckets"] = int(args["max-buckets"])
            if "suspended" in args:
                user["suspended"] = 1 if args["suspended"] in ("true", "True", "1") else 0
            return user
        if method == "DELETE":
            del self.users[uid]
            return None
        raise RgwError(405, "MethodNotAllowed")

    # S3 --------------------------------------------------------------------------------------

    def allowed(self, user: dict[str, Any], bucket: dict[str, Any], action: str, resource: str) -> bool:
        if bucket["owner"] == user["user_id"]:
            return True
        policy = json.loads(bucket["policy"]) if bucket["policy"] else {"Statement": []}
        me = f"arn:aws:iam:::user/{user['user_id']}"
        for statement in policy["Statement"]:
            principals = (statement.get("Principal") or {}).get("AWS") or []
            principals = [principals] if isinstance(principals, str) else principals
            actions = statement.get("Action") or []
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement.get("Resource") or []
            resources = [resources] if isinstance(resources, str) else resources
            if (statement.get("Effect") == "Allow" and (me in principals or "*" in principals)
                    and any(fnmatch.fnmatchcase(action, a) for a in actions)
                    and any(fnmatch.fnmatchcase(resource, r) for r in resources) and not statement.get("Condition")):
                return True
        return False

    def s3(self, user: dict[str, Any], method: str, path: str, args: dict[str, str], body: bytes) -> Any:
        parts = unquote(path).lstrip("/").split("/", 1)
        name, key = parts[0], (parts[1] if len(parts) > 1 else "")
        bucket = self.buckets.get(name)
        if not key and method == "PUT" and not args:
            if user["max_buckets"] < 0:
                raise RgwError(403, "AccessDenied")
            if bucket is not None:
                raise RgwError(409, "BucketAlreadyExists")
            self.buckets[name] = {"owner": user["user_id"], "policy": None, "objects": {}}
            return b""
        if bucket is None:
            raise RgwError(404, "NoSuchBucket")
        if not key:
            if "policy" in args:
                if bucket["owner"] != user["user_id"]:
                    raise RgwError(403, "AccessDenied")
                if method == "PUT":
                    json.loads(body)
                    bucket["policy"] = body.decode()
                    return b""
                if method == "DELETE":
                    bucket["policy"] = None
                    return b""
                if bucket["policy"] is None:
                    raise RgwError(404, "NoSuchBucketPolicy")
                return bucket["policy"].encode()
            action = {"versioning": "s3:PutBucketVersioning", "lifecycle": "s3:PutLifecycleConfiguration",
                      "object-lock": "s3:PutBucketObjectLockConfiguration"}.get(next(iter(args), ""), "s3:*")
            if not self.allowed(user, bucket, action, f"arn:aws:s3:::{name}"):
                raise RgwError(403, "AccessDenied")
            return b""
        action = {"PUT": "s3:PutObject", "GET": "s3:GetObject", "DELETE": "s3:DeleteObject"}[method]
        if not self.allowed(user, bucket, action, f"arn:aws:s3:::{name}/{key}"):
            raise RgwError(403, "AccessDenied")
        if method == "PUT":
            bucket["objects"][key] = body
            return b""
        if method == "DELETE":
            bucket["objects"].pop(key, None)
            return b""
        if key not in bucket["objects"]:
            raise RgwError(404, "NoSuchKey")
        return bucket["objects"][key]


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway

    def log_message(self, *_args: Any) -> None:
        return

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        args = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        admin = url.path.startswith("/admin/")
        try:
            with self.gateway.lock:
                caller = self.gateway.authenticate(method, f"http://{headers.get('host')}{self.path}", headers, body)
                if admin:
                    if url.path != "/admin/user":
                        raise RgwError(404, "NoSuchResource")
                    result = self.gateway.admin_user(caller, method, args)
                    data = b"" if result is None else json.dumps(result).encode()
                else:
                    data = self.gateway.s3(caller, method, url.path, args, body)
            status, kind = 200, "application/json" if admin else "application/xml"
            if method == "DELETE" and not admin:
                status = 204
        except RgwError as exc:
            status = exc.status
            request_id = f"tx{secrets.token_hex(12)}"
            if admin:
                data, kind = json.dumps({"Code": exc.code, "RequestId": request_id, "HostId": "standin"}).encode(), \
                    "application/json"
            else:
                data = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{exc.code}</Code>'
                        f"<RequestId>{request_id}</RequestId><HostId>standin</HostId></Error>").encode()
                kind = "application/xml"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's method names)
        self._serve("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("GET")


ADMIN = {"access_key_id": "RGWADMINKEY000000000", "secret_access_key": "rgw-admin-secret-0000000000000000000000"}


@contextmanager
def rgw_gateway() -> Iterator[tuple[str, Gateway]]:
    """(endpoint, state) of a stand-in with one admin user (caps users=*, owner of the backup buckets)."""
    gateway = Gateway()
    gateway.add_user("hlb-admin", caps=[{"type": "users", "perm": "*"}], access_key=ADMIN["access_key_id"],
                     secret_key=ADMIN["secret_access_key"])
    handler = type("Handler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", gateway
    finally:
        server.shutdown()
        server.server_close()
