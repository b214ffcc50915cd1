"""R2 mode for the loopback S3 server: moto behind a WSGI layer that answers as Cloudflare R2 documents.

What it enforces, each from Cloudflare's published R2 documentation:

- **No object versioning, no S3 Object Lock API.** GetBucketVersioning, PutBucketVersioning,
  GetObjectLockConfiguration and PutObjectLockConfiguration are in R2's "unimplemented bucket-level operations"
  table (developers.cloudflare.com/r2/api/s3/api/); so are the object tagging calls. ListObjectVersions and the
  object retention / legal-hold calls are in neither table. All of them answer 501 `NotImplemented`, the S3 code
  for an operation a server does not implement (R2's error page lists no code of its own for this: inference).
  The object-lock request headers of CreateBucket, PutObject, CopyObject and CreateMultipartUpload are features R2
  marks as not implemented; they are dropped here, so moto never creates a versioned or object-locked bucket.
- **Bucket lock rules** (developers.cloudflare.com/r2/buckets/bucket-locks/): set and read through R2's own REST
  shape, `PUT|GET /client/v4/accounts/<account>/r2/buckets/<bucket>/lock` with `{"rules": [{id, enabled, prefix,
  condition: {type: Age, maxAgeSeconds} | {type: Date, date} | {type: Indefinite}}]}`, at most 1,000 rules. A rule
  covers keys starting with its prefix (no prefix: every key); the strictest matching rule wins. Locks "do not
  prevent new object creation"; mutations of an existing locked key are denied: overwrites (PutObject, CopyObject
  onto it), multipart completions, deletes (DeleteObject, and per key inside DeleteObjects). A denial is HTTP 403
  with S3 code `ObjectLockedByBucketPolicy` (R2 error 10069, developers.cloudflare.com/r2/api/error-codes/).
  An object's age counts from its last upload, so an overwrite that is allowed restarts it.

The clock is injectable: `R2Mode(app, clock=...)` in-process, or `POST /_r2/clock {"advance_seconds": N}` against
a running server, so tests age objects past a rule without sleeping. Only path-style S3 requests
(`/<bucket>/<key>`) are interpreted; that is how the drills' tools address a loopback endpoint.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

MAX_RULES = 1000
"""Cloudflare: "A bucket lock configuration can include up to 1,000 rules"."""
LOCK_PATH = ("client", "v4", "accounts")
UNIMPLEMENTED_BUCKET = {"versioning": "BucketVersioning", "object-lock": "ObjectLockConfiguration",
                        "versions": "ListObjectVersions", "tagging": "BucketTagging"}
UNIMPLEMENTED_OBJECT = {"retention": "ObjectRetention", "legal-hold": "ObjectLegalHold", "tagging": "ObjectTagging"}
DROPPED_HEADERS = ("HTTP_X_AMZ_BUCKET_OBJECT_LOCK_ENABLED", "HTTP_X_AMZ_OBJECT_LOCK_MODE",
                   "HTTP_X_AMZ_OBJECT_LOCK_RETAIN_UNTIL_DATE", "HTTP_X_AMZ_OBJECT_LOCK_LEGAL_HOLD")
StartResponse = Callable[..., Any]
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
ET.register_namespace("", S3_NAMESPACE)  # a re-serialised Delete body keeps S3's default namespace


class RuleError(ValueError):
    """A lock configuration R2 would refuse, with the field path in the message."""


@dataclass(frozen=True)
class LockRule:
    """One R2 bucket lock rule in the REST API's shape."""

    rule_id: str
    enabled: bool
    prefix: str
    kind: str
    """Age | Date | Indefinite"""
    max_age_seconds: int = 0
    date: float = 0.0
    """Date rules: epoch seconds until which covered objects stay locked."""

    def locks(self, key: str, uploaded: float, now: float) -> bool:
        """Whether this rule forbids mutating `key`, uploaded at `uploaded`, at time `now`."""
        if not self.enabled or not key.startswith(self.prefix):
            return False
        if self.kind == "Indefinite":
            return True
        if self.kind == "Age":
            return now - uploaded < self.max_age_seconds
        return now < self.date

    def as_json(self) -> dict[str, Any]:
        condition: dict[str, Any] = {"type": self.kind}
        if self.kind == "Age":
            condition["maxAgeSeconds"] = self.max_age_seconds
        elif self.kind == "Date":
            condition["date"] = datetime.datetime.fromtimestamp(self.date, datetime.UTC).isoformat().replace(
                "+00:00", "Z")
        return {"id": self.rule_id, "enabled": self.enabled, "prefix": self.prefix, "condition": condition}


def parse_rules(document: Any) -> list[LockRule]:
    """The rules of a PUT .../lock body; RuleError naming the field (`rules[2].condition.maxAgeSeconds`)."""
    if not isinstance(document, dict) or set(document) - {"rules"}:
        raise RuleError("body: expected an object with the single key `rules`")
    rules = document.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError("rules: expected a list")
    if len(rules) > MAX_RULES:
        raise RuleError(f"rules: {len(rules)} rules, at most {MAX_RULES} are allowed")
    parsed = []
    for i, rule in enumerate(rules):
        at = f"rules[{i}]"
        if not isinstance(rule, dict):
            raise RuleError(f"{at}: expected an object")
        unknown = set(rule) - {"id", "enabled", "prefix", "condition"}
        if unknown:
            raise RuleError(f"{at}: unknown fields {sorted(unknown)}")
        if not isinstance(rule.get("id"), str) or not rule["id"]:
            raise RuleError(f"{at}.id: required, a non-empty string")
        if not isinstance(rule.get("enabled"), bool):
            raise RuleError(f"{at}.enabled: required, true or false")
        prefix = rule.get("prefix", "")
        if not isinstance(prefix, str):
            raise RuleError(f"{at}.prefix: expected a string")
        condition = rule.get("condition")
        if not isinstance(condition, dict):
            raise RuleError(f"{at}.condition: required, an object with `type`")
        parsed.append(_condition(at, rule["id"], rule["enabled"], prefix, condition))
    return parsed


def _condition(at: str, rule_id: str, enabled: bool, prefix: str, condition: dict[str, Any]) -> LockRule:
    kind = condition.get("type")
    allowed = {"Age": {"type", "maxAgeSeconds"}, "Date": {"type", "date"}, "Indefinite": {"type"}}
    if kind not in allowed:
        raise RuleError(f"{at}.condition.type: must be one of Age, Date, Indefinite, got {kind!r}")
    unknown = set(condition) - allowed[kind]
    if unknown:
        raise RuleError(f"{at}.condition: fields {sorted(unknown)} do not belong to a {kind} condition")
    if kind == "Age":
        seconds = condition.get("maxAgeSeconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise RuleError(f"{at}.condition.maxAgeSeconds: required, a whole number of seconds >= 0")
        return LockRule(rule_id, enabled, prefix, kind, max_age_seconds=seconds)
    if kind == "Date":
        try:
            when = datetime.datetime.fromisoformat(str(condition.get("date")).replace("Z", "+00:00"))
        except ValueError:
            raise RuleError(f"{at}.condition.date: required, an ISO 8601 date such as 2030-01-01T00:00:00Z") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        return LockRule(rule_id, enabled, prefix, kind, date=when.timestamp())
    return LockRule(rule_id, enabled, prefix, kind)


class Clock:
    """Wall time plus an offset tests can advance."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self.source = source
        self.offset = 0.0

    def __call__(self) -> float:
        return self.source() + self.offset


def _xml_error(code: str, message: str, resource: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"<Resource>{escape(resource)}</Resource></Error>").encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class R2Mode:
    """WSGI middleware that gives an S3 app (moto's) R2's documented lock and versioning semantics."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
                 clock: Callable[[], float] | None = None) -> None:
        self.app = app
        self.clock = clock if clock is not None else Clock()
        self.rules: dict[str, list[LockRule]] = {}
        self.uploaded: dict[tuple[str, str], float] = {}
        """(bucket, key) -> time of its last successful upload: the age R2's Age condition measures."""
        self.denials: list[tuple[str, str, str]] = []
        """(operation, bucket, key) of every mutation refused by a lock rule, for drills to report."""
        self._mutex = threading.Lock()

    def locked(self, bucket: str, key: str) -> LockRule | None:
        """The rule that keeps an existing `key` from being overwritten or deleted now, or None."""
        uploaded = self.uploaded.get((bucket, key))
        if uploaded is None:
            return None
        now = self.clock()
        return next((r for r in self.rules.get(bucket, []) if r.locks(key, uploaded, now)), None)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        parts = path.lstrip("/").split("/", 1)
        if parts[0] == "_r2":
            return self._clock_api(environ, start_response)
        segments = path.strip("/").split("/")
        if len(segments) == 8 and tuple(segments[:3]) == LOCK_PATH and segments[4:6] + segments[7:] == [
                "r2", "buckets", "lock"]:
            return self._lock_api(environ, start_response, segments[6])
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not bucket:
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = environ.get("REQUEST_METHOD", "GET")
        for header in DROPPED_HEADERS:
            environ.pop(header, None)
        # R2's region is `auto` (us-east-1 and empty alias it); moto knows regions only, and checks no signatures.
        auth = environ.get("HTTP_AUTHORIZATION", "")
        environ["HTTP_AUTHORIZATION"] = auth.replace("/auto/s3/aws4_request", "/us-east-1/s3/aws4_request")
        table = UNIMPLEMENTED_OBJECT if key else UNIMPLEMENTED_BUCKET
        for name, operation in table.items():
            if name in query:
                verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method.title())
                if name == "versions":
                    verb = ""
                return self._answer(start_response, "501 Not Implemented", _xml_error(
                    "NotImplemented", f"{verb}{operation} is not implemented by R2", path))
        if not key:
            if method == "POST" and "delete" in query:
                return self._delete_objects(environ, start_response, bucket)
            return self.app(environ, start_response)
        if method == "PUT" and "uploadId" not in query:
            return self._mutation(environ, start_response, bucket, key, "PutObject", record=True)
        if method == "POST" and "uploadId" in query:
            return self._mutation(environ, start_response, bucket, key, "CompleteMultipartUpload", record=True)
        if method == "DELETE" and "uploadId" not in query:
            return self._mutation(environ, start_response, bucket, key, "DeleteObject", record=False)
        return self.app(environ, start_response)

    def _mutation(self, environ: dict[str, Any], start_response: StartResponse, bucket: str, key: str,
                  operation: str, record: bool) -> Iterable[bytes]:
        with self._mutex:
            rule = self.locked(bucket, key)
            if rule is not None:
                self.denials.append((operation, bucket, key))
        if rule is not None:
            return self._answer(start_response, "403 Forbidden", _xml_error(
                "ObjectLockedByBucketPolicy", f"Object is protected by bucket lock rule {rule.rule_id!r} and cannot "
                "be modified or deleted.", f"/{bucket}/{key}"))
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        body = list(self.app(environ, capture))
        if status and status[0].startswith("2") and not (operation == "CompleteMultipartUpload"
                                                          and b"<Error>" in b"".join(body)):
            with self._mutex:
                if record:
                    self.uploaded[(bucket, key)] = self.clock()
                else:
                    self.uploaded.pop((bucket, key), None)
        return body

    def _delete_objects(self, environ: dict[str, Any], start_response: StartResponse,
                        bucket: str) -> Iterable[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or -1)
        document = ET.fromstring(raw)
        refused: list[tuple[str, LockRule]] = []
        with self._mutex:
            for item in list(document):
                if _local(item.tag) != "Object":
                    continue
                key = next((c.text or "" for c in item if _local(c.tag) == "Key"), "")
                rule = self.locked(bucket, key)
                if rule is not None:
                    refused.append((key, rule))
                    self.denials.append(("DeleteObjects", bucket, key))
                    document.remove(item)
        errors = "".join(f"<Error><Key>{escape(k)}</Key><Code>ObjectLockedByBucketPolicy</Code><Message>Object is "
                         f"protected by bucket lock rule {escape(repr(r.rule_id))}.</Message></Error>"
                         for k, r in refused)
        if not any(_local(c.tag) == "Object" for c in document):
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{S3_NAMESPACE}">{errors}'
                    "</DeleteResult>").encode()
            return self._answer(start_response, "200 OK", body, "application/xml")
        forwarded = ET.tostring(document, encoding="utf-8") if refused else raw
        if refused:
            environ["HTTP_CONTENT_MD5"] = base64.b64encode(hashlib.md5(forwarded).digest()).decode()
            for name in [n for n in environ if n.startswith(("HTTP_X_AMZ_CHECKSUM", "HTTP_X_AMZ_SDK_CHECKSUM"))]:
                environ.pop(name)
        environ["wsgi.input"] = io.BytesIO(forwarded)
        environ["CONTENT_LENGTH"] = str(len(forwarded))
        status: list[str] = []
        headers: list[tuple[str, str]] = []

        def capture(code: str, head: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            headers.extend(head)
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if status and status[0].startswith("2"):
            deleted = self._deleted_keys(body)
            with self._mutex:
                for key in deleted:
                    self.uploaded.pop((bucket, key), None)
            if errors:
                body = body.replace(b"</DeleteResult>", errors.encode() + b"</DeleteResult>")
        kept = [(n, v) for n, v in headers if n.lower() != "content-length"]
        start_response(status[0] if status else "500 Internal Server Error",
                       [*kept, ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _deleted_keys(body: bytes) -> list[str]:
        keys = []
        for element in ET.fromstring(body):
            if _local(element.tag) == "Deleted":
                keys += [c.text or "" for c in element if _local(c.tag) == "Key"]
        return keys

    def _lock_api(self, environ: dict[str, Any], start_response: StartResponse, bucket: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            with self._mutex:
                rules = [r.as_json() for r in self.rules.get(bucket, [])]
            return self._json(start_response, "200 OK", {"success": True, "errors": [], "messages": [],
                                                          "result": {"rules": rules}})
        if method != "PUT":
            return self._json(start_response, "405 Method Not Allowed", {"success": False, "errors": [
                {"message": f"{method} is not supported on a bucket lock configuration; use GET or PUT"}]})
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or -1)
        try:
            rules = parse_rules(json.loads(raw or b"{}"))
        except (RuleError, json.JSONDecodeError) as exc:
            return self._json(start_response, "400 Bad Request", {"success": False, "errors": [{"message": str(exc)}],
                                                                   "messages": [], "result": None})
        with self._mutex:
            self.rules[bucket] = rules
        return self._json(start_response, "200 OK", {"success": True, "errors": [], "messages": [], "result": {}})

    def _clock_api(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or -1)
            seconds = json.loads(raw or b"{}").get("advance_seconds", 0)
            if not isinstance(self.clock, Clock):
                return self._json(start_response, "409 Conflict", {"error": "the clock was injected in-process"})
            self.clock.offset += float(seconds)
        with self._mutex:
            refused = [list(d) for d in self.denials]
        return self._json(start_response, "200 OK", {"now": self.clock(), "denials": len(refused),
                                                      "refused": refused})

    @staticmethod
    def _json(start_response: StartResponse, status: str, document: Any) -> list[bytes]:
        return R2Mode._answer(start_response, status, json.dumps(document).encode(), "application/json")

    @staticmethod
    def _answer(start_response: StartResponse, status: str, body: bytes,
                content_type: str = "application/xml") -> list[bytes]:
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
