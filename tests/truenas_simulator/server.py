"""A TrueNAS 25.04 JSON-RPC 2.0 WebSocket API simulator: a test double, not TrueNAS.

It serves `ws://127.0.0.1:<random port>/api/current` (and `/api/vXX.YY.Z`; anything else is HTTP 404, as on a
24.10 box without the new API) from a background thread, so the real client and providers can be exercised
without a NAS. It implements only what the providers use, following the published 25.04 API:

- `auth.login_with_api_key` (returns false on a bad key, like the middleware); every other method needs a login
  first and otherwise answers -32001 with errno 207 ENOTAUTHENTICATED.
- `pool.snapshottask.{query,create,update,delete}` and `cloudsync.credentials.{...}`: pydantic-modelled in 25.04,
  so validation errors read like pydantic's ("Extra inputs are not permitted", "Field required", "Value error, ...")
  at paths starting with the argument name (`data.foo`, `cloud_sync_credentials_create.provider.B2.key`), followed by
  service checks under their own prefix (`periodic_snapshot_create.dataset: Dataset not found`).
- `cloudsync.{query,create,update,delete}`: still on the legacy schema layer in 25.04, so its messages are the legacy
  ones ("Field was not expected", "attribute required", "Invalid choice: X") and `schedule` is required.
- `cronjob.{query,create,update,delete}`: pydantic-modelled (api/v25_04_0/cronjob.py), then the service's own
  checks from plugins/cron.py (`cron_job_create.user: Specified user does not exist`, an empty command refused);
  `users` lists the NAS users that exist.
- `pool.filesystem_choices`.

Not modelled: credential types other than B2 and S3 (refused like an unknown tag), replication tasks bound to
snapshot tasks, running jobs, and the S3 region lookup the NAS does when `skip_region` is false.

Errors use the real shapes: -32602 "Invalid params" with `data.extra = [[attribute, message, errno], ...]`, -32001
"Method call error" with `data.error` (errno) and `data.reason`. State persists across calls and connections. Ids
are SQLite-like (max + 1), so a deleted highest id can come back.

Secrets: a full-admin API key sees secrets in query output, as on the real middleware (it only redacts `Secret`
fields for sessions without the service's WRITE role). Set `redact_secrets = True` to answer like such a session:
secret values become "********".

Test knobs: `drop_connection` (abort the TCP connection for the next N matching calls, before or after applying
them), `set_delay` (slow answers), `reject_auth`, `expire_sessions`, and out-of-band changes (`edit`, `remove`,
`add`, `datasets`) that stand in for changes made in the TrueNAS UI.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import re
import shlex
import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from types import TracebackType
from typing import Annotated, Any, Literal, Self

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    create_model,
    model_validator,
)
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["SECRET_VALUE", "TrueNASSimulator"]

SECRET_VALUE = "********"
ENOTAUTHENTICATED = 207
_API_PATH = re.compile(r"^/api/(current|v25\.(04|10)\.\d+)$")
SNAPSHOT_TASKS = "pool.snapshottask"
CREDENTIALS = "cloudsync.credentials"
CLOUD_SYNC = "cloudsync"
CRON_JOBS = "cronjob"
_VERBOSE = {SNAPSHOT_TASKS: "PeriodicSnapshotTask", CREDENTIALS: "Credentials", CLOUD_SYNC: "CloudSync",
            CRON_JOBS: "CronJob"}
_PROVIDER_SECRETS = {
    "B2": ("account", "key"),
    "S3": ("access_key_id", "secret_access_key", "region", "skip_region", "signatures_v2", "max_upload_parts"),
}
"""Fields declared `Secret[...]` in api/v25_04_0/cloud_sync_providers.py (S3 `endpoint` is not one)."""


class ApiError(Exception):
    """An error answer to send back: JSON-RPC code, message and TrueNAS `data`."""

    def __init__(self, code: int, message: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _validation(issues: list[tuple[str | None, str, int]]) -> ApiError:
    reason = "".join(f"[{errno.errorcode.get(e, 'EUNKNOWN')}] {a}: {m}\n" for a, m, e in issues)
    extra = [list(issue) for issue in issues]
    data = {"error": errno.EINVAL, "errname": "EINVAL", "reason": reason, "trace": None, "extra": extra}
    return ApiError(-32602, "Invalid params", data)


def _call_error(reason: str, errno_: int = errno.EFAULT) -> ApiError:
    errname = {ENOTAUTHENTICATED: "ENOTAUTHENTICATED"}.get(errno_) or errno.errorcode.get(errno_, "EUNKNOWN")
    data = {"error": errno_, "errname": errname, "reason": f"[{errname}] {reason}", "trace": None, "extra": None}
    return ApiError(-32001, "Method call error", data)


def _not_found(namespace: str, id_: Any) -> ApiError:
    return _validation([(None, f"{_VERBOSE[namespace]} {id_} does not exist", errno.ENOENT)])


# --- validators (own implementations of the published rules) -----------------------------------------------------


def _naming_schema(value: str) -> str:
    """zettarepl's rules for a periodic snapshot naming schema."""
    if "%%" in value:
        raise ValueError("% is not an allowed character in ZFS snapshot name")
    bad = re.findall(r"[^0-9A-Za-z %_.:-]", value)
    if bad:
        verb = "is not an allowed character" if len(bad) == 1 else "are not allowed characters"
        raise ValueError(f"{''.join(bad)} {verb} in ZFS snapshot name")
    if "%s" in value:
        if re.search("%[^s]", value):
            raise ValueError("No other placeholder can be used with %s in naming schema")
    else:
        for token in ("%Y", "%m", "%d", "%H", "%M"):
            if token not in value:
                raise ValueError(f"{token} must be present in snapshot naming schema")
    if re.search("(^|[^%])%z", value) and ":" in value:
        raise ValueError(
            "%z and `:` can't be present in snapshot naming schema at the same time. "
            "ZFS snapshot names can't contain `+` so we use `:` instead."
        )
    return value


def _time_string(value: str) -> str:
    try:
        hours, minutes = value.split(":")
        parsed = time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ValueError('Time should be in 24 hour format like "18:00"') from None
    return parsed.strftime("%H:%M")


def _cron_problem(schedule: dict[str, Any]) -> str | None:
    expression = ""
    for key in ("minute", "hour", "dom", "month", "dow"):
        value = schedule.get(key) or "*"
        if "/" in value and not re.match(r"^(\*|[0-9]+-[0-9]+)/([0-9]+)$", value):
            return "Only range or `*` are allowed before `/`"
        expression += f"{value} "
    try:
        croniter(expression)
    except Exception as exc:  # noqa: BLE001 - croniter raises several unrelated types for bad input
        return str(exc)
    return None


NonEmpty = Annotated[str, Field(min_length=1)]
TimeString = Annotated[str, AfterValidator(_time_string)]


class _Model(BaseModel):
    """The middleware's BaseModel: unknown keys refused, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Cron(_Model):
    minute: str = "*"
    hour: str = "*"
    dom: str = "*"
    month: str = "*"
    dow: str = "*"

    @model_validator(mode="after")
    def _valid_cron(self) -> Self:
        problem = _cron_problem(self.model_dump())
        if problem:
            raise ValueError(f"Please ensure fields match cron syntax - {problem}")
        return self


class SnapshotCron(_Cron):
    minute: str = "00"
    begin: TimeString = "00:00"
    end: TimeString = "23:59"


class SnapshotTaskCreate(_Model):
    dataset: str
    recursive: bool = False
    lifetime_value: int = 2
    lifetime_unit: Literal["HOUR", "DAY", "WEEK", "MONTH", "YEAR"] = "WEEK"
    enabled: bool = True
    exclude: list[str] = []
    naming_schema: Annotated[str, AfterValidator(_naming_schema)] = "auto-%Y-%m-%d_%H-%M"
    allow_empty: bool = True
    schedule: SnapshotCron = Field(default_factory=SnapshotCron)


class SnapshotTaskUpdate(SnapshotTaskCreate):
    """Every field optional (applied only when given), plus the update-only `fixate_removal_date`."""

    dataset: str = ""
    fixate_removal_date: bool = False


class SnapshotDeleteOptions(_Model):
    fixate_removal_date: bool = False


class CronJobSchedule(_Cron):
    minute: str = "00"


class CronJobCreate(_Model):
    """api/v25_04_0/cronjob.py: `stdout`/`stderr` hide the stream when true."""

    enabled: bool = True
    stderr: bool = False
    stdout: bool = True
    schedule: CronJobSchedule = Field(default_factory=CronJobSchedule)
    command: str
    description: str = ""
    user: str


class CronJobUpdate(CronJobCreate):
    """Every field optional (ForUpdateMetaclass); only the given ones are applied."""

    command: str = ""
    user: str = ""


class B2Provider(_Model):
    type: Literal["B2"]
    account: NonEmpty
    key: NonEmpty


class S3Provider(_Model):
    type: Literal["S3"]
    access_key_id: NonEmpty
    secret_access_key: NonEmpty
    endpoint: Literal[""] | Annotated[HttpUrl, AfterValidator(str)] = ""
    region: str = ""
    skip_region: bool = False
    signatures_v2: bool = False
    max_upload_parts: int = 10000


CredentialProvider = Annotated[B2Provider | S3Provider, Field(discriminator="type")]


class CredentialCreate(_Model):
    name: NonEmpty
    provider: CredentialProvider


class CredentialUpdate(_Model):
    """Every field optional, as the middleware's ForUpdateMetaclass makes them; only the given ones are applied."""

    name: NonEmpty = "unset"
    provider: CredentialProvider = Field(default_factory=lambda: B2Provider(type="B2", account="unset", key="unset"))


class QueryOptions(_Model):
    relationships: bool = True
    extend: str | None = None
    extend_context: str | None = None
    prefix: str | None = None
    extra: dict[str, Any] = {}
    order_by: list[str] = []
    select: list[str | list[Any]] = []
    count: bool = False
    get: bool = False
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=0, ge=0, le=10000)
    force_sql_filters: bool = False


_FILTER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b,
    ">=": lambda a, b: a is not None and a >= b,
    "<": lambda a, b: a is not None and a < b,
    "<=": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: a in b,
    "nin": lambda a, b: a not in b,
    "^": lambda a, b: isinstance(a, str) and a.startswith(b),
    "$": lambda a, b: isinstance(a, str) and a.endswith(b),
    "~": lambda a, b: isinstance(a, str) and re.search(b, a) is not None,
}


def _filters(value: Any) -> list[list[Any]]:
    if not isinstance(value, list):
        raise ValueError("Input should be a valid list")
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ValueError(f"Invalid filter {item}")
        if item[1] not in _FILTER_OPS:
            raise ValueError(f"Invalid operation: {item[1]}")
    return value


class QueryArgs(_Model):
    filters: Annotated[list[Any], AfterValidator(_filters)] = []
    options: QueryOptions = Field(default_factory=QueryOptions)


def _pydantic_issues(exc: ValidationError) -> list[tuple[str | None, str, int]]:
    """Flatten pydantic errors the way the middleware's accept layer does (union members merged with "or")."""
    issues: list[tuple[str | None, str, int]] = []
    unions: dict[str, list[str]] = defaultdict(list)
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        message = error["msg"]
        if error["type"] == "union_tag_not_found":
            loc.append(str(error["ctx"]["discriminator"]).strip("'"))
            message = "Field required"
        elif loc and ("[" in loc[-1] or "(" in loc[-1]):
            unions[".".join(loc[:-1])].append(message)
            continue
        issues.append((".".join(loc), message, errno.EINVAL))
    issues.extend((path, " or ".join(messages), errno.EINVAL) for path, messages in unions.items())
    return issues


def _bind(model: type[BaseModel], params: list[Any]) -> BaseModel:
    names = list(model.model_fields)
    if len(params) > len(names):
        raise _call_error(f"Too many arguments (expected {len(names)}, found {len(params)})", errno.EINVAL)
    try:
        return model.model_validate(dict(zip(names, params, strict=False)))
    except ValidationError as exc:
        raise _validation(_pydantic_issues(exc)) from None


_SnapshotCreateArgs = create_model("SnapshotCreateArgs", __base__=_Model, data=(SnapshotTaskCreate, ...))
_SnapshotUpdateArgs = create_model("SnapshotUpdateArgs", __base__=_Model, id=(int, ...), data=(SnapshotTaskUpdate, ...))
_SnapshotDeleteArgs = create_model(
    "SnapshotDeleteArgs",
    __base__=_Model,
    id=(int, ...),
    options=(SnapshotDeleteOptions, Field(default_factory=SnapshotDeleteOptions)),
)
_CronJobCreateArgs = create_model("CronJobCreateArgs", __base__=_Model, data=(CronJobCreate, ...))
_CronJobUpdateArgs = create_model("CronJobUpdateArgs", __base__=_Model, id=(int, ...), data=(CronJobUpdate, ...))
_CredentialCreateArgs = create_model(
    "CredentialCreateArgs", __base__=_Model, cloud_sync_credentials_create=(CredentialCreate, ...)
)
_CredentialUpdateArgs = create_model(
    "CredentialUpdateArgs", __base__=_Model, id=(int, ...), cloud_sync_credentials_update=(CredentialUpdate, ...)
)
_IdArgs = create_model("IdArgs", __base__=_Model, id=(int, ...))
_FilesystemChoicesArgs = create_model(
    "FilesystemChoicesArgs",
    __base__=_Model,
    types=(list[Literal["FILESYSTEM", "VOLUME"]], ["FILESYSTEM", "VOLUME"]),
)


# --- the legacy schema layer cloudsync.* still used in 25.04 -------------------------------------------------------

_REQUIRED = object()
_CLOUD_SYNC_SCHEMA: dict[str, tuple[Any, Any]] = {
    "description": ("str", ""),
    "path": ("str", _REQUIRED),
    "credentials": ("int", _REQUIRED),
    "attributes": ("dict", _REQUIRED),
    "schedule": ("cron", _REQUIRED),
    "pre_script": ("str", ""),
    "post_script": ("str", ""),
    "snapshot": ("bool", False),
    "include": ("paths", []),
    "exclude": ("paths", []),
    "args": ("str", ""),
    "enabled": ("bool", True),
    "bwlimit": ("bwlimit", []),
    "transfers": ("transfers", None),
    "direction": (("PUSH", "PULL"), _REQUIRED),
    "transfer_mode": (("SYNC", "COPY", "MOVE"), _REQUIRED),
    "encryption": ("bool", False),
    "filename_encryption": ("bool", False),
    "encryption_password": ("str", ""),
    "encryption_salt": ("str", ""),
    "create_empty_src_dirs": ("bool", False),
    "follow_symlinks": ("bool", False),
}


def _legacy_value(path: str, kind: Any, value: Any, issues: list[tuple[str | None, str, int]]) -> Any:
    def bad(message: str, where: str = path) -> None:
        issues.append((where, message, errno.EINVAL))

    if value is None and kind != "transfers":
        return bad("null not allowed")
    if isinstance(kind, tuple):
        return value if value in kind else bad(f"Invalid choice: {value}")
    if kind == "str":
        return value if isinstance(value, str) else bad("Not a string")
    if kind == "bool":
        return value if isinstance(value, bool) else bad("Not a boolean")
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else bad("Not an integer")
    if kind == "transfers":
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return bad("Not an integer")
        return value if value is None or value >= 1 else bad("Should be greater than or equal to 1")
    if kind == "dict":
        return dict(value) if isinstance(value, dict) else bad("A dict was expected")
    if kind == "paths":
        if not isinstance(value, list):
            return bad("Not a list")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                bad("Empty value not allowed", f"{path}.{i}")
        return list(value)
    if kind == "bwlimit":
        if not isinstance(value, list):
            return bad("Not a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                bad("A dict was expected", f"{path}.{i}")
                continue
            for key in sorted(set(item) - {"time", "bandwidth"}):
                bad("Field was not expected", f"{path}.{i}.{key}")
            try:
                _time_string(item.get("time", ""))
            except (ValueError, AttributeError):
                bad('Time should be in 24 hour format like "18:00"', f"{path}.{i}.time")
            bandwidth = item.get("bandwidth")
            if bandwidth is not None and (not isinstance(bandwidth, int) or bandwidth < 1):
                bad("Should be greater than or equal to 1", f"{path}.{i}.bandwidth")
        return copy.deepcopy(value)
    if kind == "cron":
        if not isinstance(value, dict):
            return bad("A dict was expected")
        schedule = {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}
        for key, item in value.items():
            if key not in schedule:
                bad("Field was not expected", f"{path}.{key}")
            elif not isinstance(item, str):
                bad("Not a string", f"{path}.{key}")
            else:
                schedule[key] = item
        problem = _cron_problem(schedule)
        return bad(f"Please ensure fields match cron syntax - {problem}") if problem else schedule
    raise AssertionError(kind)


def _legacy_clean(name: str, data: Any, update: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _validation([(name, "A dict was expected", errno.EINVAL)])
    issues: list[tuple[str | None, str, int]] = []
    clean: dict[str, Any] = {}
    for key in data:
        if key not in _CLOUD_SYNC_SCHEMA:
            issues.append((f"{name}.{key}", "Field was not expected", errno.EINVAL))
    for key, (kind, default) in _CLOUD_SYNC_SCHEMA.items():
        if key in data:
            clean[key] = _legacy_value(f"{name}.{key}", kind, data[key], issues)
        elif update:
            continue
        elif default is _REQUIRED:
            issues.append((f"{name}.{key}", "attribute required", errno.EINVAL))
        else:
            clean[key] = copy.deepcopy(default)
    if issues:
        raise _validation(issues)
    return clean


# --- the simulator -------------------------------------------------------------------------------------------------


@dataclass
class _DropRule:
    method: str | None
    times: int
    skip: int
    applied: bool


class TrueNASSimulator:
    """In-process stand-in for a TrueNAS 25.04 box's JSON-RPC API; start() it, point a client at `url`, stop() it."""

    def __init__(
        self,
        api_key: str = "1-simulator0000000000000000000000000000000000000000000000000000000",
        datasets: dict[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.api_key = api_key
        self.datasets: dict[str, str] = (
            dict(datasets)
            if datasets is not None
            else {
                "tank": "FILESYSTEM",
                "tank/photos": "FILESYSTEM",
                "tank/vaultwarden": "FILESYSTEM",
                "tank/backups": "FILESYSTEM",
                "tank/backups/postgres": "FILESYSTEM",
                "tank/vm-disk": "VOLUME",
            }
        )
        """ZFS datasets by name -> FILESYSTEM | VOLUME; the first path component is the pool."""
        self.reject_auth = False
        """When true, every API key is refused (auth.login_with_api_key returns false)."""
        self.redact_secrets = False
        """When true, query/create/update answers redact Secret fields like a session without the WRITE role."""
        self.calls: list[str] = []
        """Every method called, in order (including calls that were dropped)."""
        self._tls = tls
        self._tables: dict[str, dict[int, dict[str, Any]]] = {SNAPSHOT_TASKS: {}, CREDENTIALS: {}, CLOUD_SYNC: {},
                                                              CRON_JOBS: {}}
        self.users = {"root", "admin"}
        """NAS users a cron job may run as (`cronjob` checks the user exists)."""
        self._drops: list[_DropRule] = []
        self._delays: dict[str | None, float] = {}
        self._sessions: dict[int, dict[str, bool]] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # lifecycle

    def start(self) -> Self:
        """Listen on a random 127.0.0.1 port and serve from a background thread."""
        self._stopping.clear()
        self._server = serve(
            self._handle,
            "127.0.0.1",
            0,
            ssl=self._tls,
            process_request=self._check_path,
            ping_interval=None,
            compression=None,
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="truenas-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, cut short any injected delay and close open connections."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The `/api/current` endpoint."""
        return self.url_for("current")

    def url_for(self, version: str) -> str:
        """Endpoint URL for `current` or a pinned version such as `v25.04.0`."""
        scheme = "wss" if self._tls else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/api/{version}"

    def connection(self, **overrides: Any) -> dict[str, Any]:
        """A `connection` input for the providers pointing at this simulator."""
        return {"url": self.url, "api_key": self.api_key, "connect_timeout": 5, "call_timeout": 5, **overrides}

    # fault injection and out-of-band changes

    def drop_connection(self, times: int = 1, method: str | None = None, skip: int = 0, applied: bool = False) -> None:
        """Abort the TCP connection (no close frame, no reply) on the next `times` calls of `method` (any if None).

        `skip` lets that many matching calls through first. With `applied` the call is carried out before the drop,
        as when a reply is lost on the way back; without it the call never reaches the service.
        """
        with self._lock:
            self._drops.append(_DropRule(method, times, skip, applied))

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        """Answer `method` (every method if None) only after `seconds`."""
        with self._lock:
            self._delays[method] = seconds

    def expire_sessions(self) -> None:
        """Log every open connection out, as a middleware restart or a revoked key would."""
        with self._lock:
            for session in self._sessions.values():
                session["authenticated"] = False

    def clear_faults(self) -> None:
        """Remove every pending drop and delay and accept the API key again."""
        with self._lock:
            self._drops.clear()
            self._delays.clear()
            self.reject_auth = False

    def rows(self, namespace: str) -> dict[int, dict[str, Any]]:
        """A copy of the stored rows of `namespace` (unredacted; cloud sync rows hold the credential id)."""
        with self._lock:
            return copy.deepcopy(self._tables[namespace])

    def edit(self, namespace: str, id_: int, **changes: Any) -> None:
        """Change a stored row without validation, as an edit in the TrueNAS UI would."""
        with self._lock:
            self._tables[namespace][id_].update(copy.deepcopy(changes))

    def remove(self, namespace: str, id_: int) -> None:
        """Delete a stored row behind the client's back."""
        with self._lock:
            self._tables[namespace].pop(id_, None)

    def add(self, namespace: str, row: dict[str, Any]) -> int:
        """Insert a stored row without validation (pre-existing objects) and return its id."""
        with self._lock:
            return self._insert(namespace, copy.deepcopy(row))

    # transport

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        if _API_PATH.match(request.path.split("?")[0]):
            return None
        return connection.respond(404, "Not Found\n")

    def _take_drop(self, method: str) -> _DropRule | None:
        with self._lock:
            for rule in self._drops:
                if rule.method not in (None, method):
                    continue
                if rule.skip:
                    rule.skip -= 1
                    return None
                rule.times -= 1
                if rule.times <= 0:
                    self._drops.remove(rule)
                return rule
        return None

    def _delay_for(self, method: str) -> float:
        with self._lock:
            return self._delays.get(method, self._delays.get(None, 0.0))

    @staticmethod
    def _abort(ws: ServerConnection) -> None:
        with contextlib.suppress(OSError):
            ws.socket.shutdown(socket.SHUT_RDWR)

    def _handle(self, ws: ServerConnection) -> None:
        session = {"authenticated": False}
        with self._lock:
            self._sessions[id(ws)] = session
        try:
            for raw in ws:
                reply = self._answer(session, raw)
                if reply == "abort":
                    self._abort(ws)
                    return
                if reply is not None:
                    ws.send(json.dumps(reply))
        except (ConnectionClosed, OSError):
            return
        finally:
            with self._lock:
                self._sessions.pop(id(ws), None)

    def _answer(self, session: dict[str, bool], raw: str | bytes) -> dict[str, Any] | str | None:
        """The reply to one message, None for a notification, or "abort" to drop the connection."""
        try:
            message = json.loads(raw)
        except ValueError:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        if not isinstance(message, dict):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}}
        if message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
            problem = "'jsonrpc' member must be exactly '2.0' and 'method' a string"
            return {"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": -32600, "message": problem}}
        method: str = message["method"]
        params = message.get("params", [])
        with self._lock:
            self.calls.append(method)
        drop = self._take_drop(method)
        if drop is not None and not drop.applied:
            return "abort"
        if self._stopping.wait(self._delay_for(method)):
            return "abort"
        try:
            if not isinstance(params, list):
                raise ApiError(-32600, "'params' member must be of type array", {})
            result: Any = self._dispatch(session, method, params)
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id"), "result": result}
        except ApiError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data:
                error["data"] = exc.data
            reply = {"jsonrpc": "2.0", "id": message.get("id"), "error": error}
        if drop is not None:
            return "abort"
        return reply if "id" in message else None

    # dispatch

    def _dispatch(self, session: dict[str, bool], method: str, params: list[Any]) -> Any:
        if method == "auth.login_with_api_key":
            if len(params) != 1 or not isinstance(params[0], str):
                raise _validation([("api_key", "Input should be a valid string", errno.EINVAL)])
            session["authenticated"] = not self.reject_auth and params[0] == self.api_key
            return session["authenticated"]
        handler = self._methods().get(method)
        if handler is None:
            raise ApiError(-32601, "Method does not exist", {})
        if not session["authenticated"]:
            raise _call_error("Not authenticated", ENOTAUTHENTICATED)
        with self._lock:
            return handler(params)

    def _methods(self) -> dict[str, Callable[[list[Any]], Any]]:
        return {
            "pool.filesystem_choices": self._filesystem_choices,
            "pool.snapshottask.query": lambda p: self._query(SNAPSHOT_TASKS, p),
            "pool.snapshottask.create": self._snapshot_create,
            "pool.snapshottask.update": self._snapshot_update,
            "pool.snapshottask.delete": self._snapshot_delete,
            "cloudsync.credentials.query": lambda p: self._query(CREDENTIALS, p),
            "cloudsync.credentials.create": self._credential_create,
            "cloudsync.credentials.update": self._credential_update,
            "cloudsync.credentials.delete": self._credential_delete,
            "cloudsync.query": lambda p: self._query(CLOUD_SYNC, p),
            "cloudsync.create": self._cloud_sync_create,
            "cloudsync.update": self._cloud_sync_update,
            "cloudsync.delete": self._cloud_sync_delete,
            "cronjob.query": lambda p: self._query(CRON_JOBS, p),
            "cronjob.create": self._cron_create,
            "cronjob.update": self._cron_update,
            "cronjob.delete": self._cron_delete,
        }

    # storage helpers

    def _insert(self, namespace: str, row: dict[str, Any]) -> int:
        table = self._tables[namespace]
        id_ = max(table, default=0) + 1
        table[id_] = {"id": id_, **row}
        return id_

    def _get(self, namespace: str, id_: int) -> dict[str, Any]:
        row = self._tables[namespace].get(id_)
        if row is None:
            raise _not_found(namespace, id_)
        return copy.deepcopy(row)

    def _extend(self, namespace: str, row: dict[str, Any]) -> dict[str, Any]:
        entry = copy.deepcopy(row)
        if namespace == SNAPSHOT_TASKS:
            entry.setdefault("vmware_sync", False)
            entry.setdefault("state", {"state": "PENDING"})
        elif namespace == CLOUD_SYNC:
            credential = self._tables[CREDENTIALS].get(entry["credentials"])
            entry["credentials"] = self._extend(CREDENTIALS, credential) if credential else None
            entry.setdefault("job", None)
            entry.setdefault("locked", False)
            if self.redact_secrets:
                for key in ("encryption_password", "encryption_salt"):
                    entry[key] = SECRET_VALUE
        elif namespace == CREDENTIALS and self.redact_secrets:
            provider = entry["provider"]
            for key in _PROVIDER_SECRETS.get(provider["type"], ()):
                if key in provider:
                    provider[key] = SECRET_VALUE
        return entry

    def _query(self, namespace: str, params: list[Any]) -> Any:
        args = _bind(QueryArgs, params)
        assert isinstance(args, QueryArgs)
        entries = [self._extend(namespace, row) for _, row in sorted(self._tables[namespace].items())]
        matched = [e for e in entries if all(_FILTER_OPS[op](_lookup(e, f), value) for f, op, value in args.filters)]
        options = args.options
        for key in reversed(options.order_by):
            field = key.lstrip("-")
            matched.sort(key=lambda e, f=field: (_lookup(e, f) is None, _lookup(e, f)), reverse=key.startswith("-"))
        matched = matched[options.offset :]
        if options.limit:
            matched = matched[: options.limit]
        if options.select:
            matched = [{k: e.get(k) for k in options.select if isinstance(k, str)} for e in matched]
        if options.count:
            return len(matched)
        if options.get:
            if not matched:
                raise _call_error("MatchNotFound()", errno.ENOENT)
            return matched[0]
        return matched

    def _filesystem_choices(self, params: list[Any]) -> list[str]:
        args = _bind(_FilesystemChoicesArgs, params)
        types = args.types  # type: ignore[attr-defined]
        return sorted(name for name, kind in self.datasets.items() if kind in types)

    # pool.snapshottask

    def _snapshot_service_checks(self, prefix: str, data: dict[str, Any]) -> None:
        issues: list[tuple[str | None, str, int]] = []
        if data["dataset"] not in self.datasets:
            issues.append((f"{prefix}.dataset", "Dataset not found", errno.EINVAL))
        if not data["recursive"] and data["exclude"]:
            message = "Excluding datasets is not necessary for non-recursive periodic snapshot tasks"
            issues.append((f"{prefix}.exclude", message, errno.EINVAL))
        for i, excluded in enumerate(data["exclude"]):
            if not excluded.startswith(f"{data['dataset']}/"):
                issues.append(
                    (
                        f"{prefix}.exclude.{i}",
                        "Excluded dataset should be a child or other descendant of the selected dataset",
                        errno.EINVAL,
                    )
                )
        if issues:
            raise _validation(issues)

    def _snapshot_create(self, params: list[Any]) -> dict[str, Any]:
        data = _bind(_SnapshotCreateArgs, params).data.model_dump(warnings=False)  # type: ignore[attr-defined]
        self._snapshot_service_checks("periodic_snapshot_create", data)
        return self._extend(SNAPSHOT_TASKS, self._tables[SNAPSHOT_TASKS][self._insert(SNAPSHOT_TASKS, data)])

    def _snapshot_update(self, params: list[Any]) -> dict[str, Any]:
        args = _bind(_SnapshotUpdateArgs, params)
        model: SnapshotTaskUpdate = args.data  # type: ignore[attr-defined]
        data = model.model_dump(exclude_unset=True, warnings=False)
        data.pop("fixate_removal_date", None)
        if "schedule" in data:
            data["schedule"] = model.schedule.model_dump()
        new = self._get(SNAPSHOT_TASKS, args.id)  # type: ignore[attr-defined]
        new.update(data)
        self._snapshot_service_checks("periodic_snapshot_update", new)
        self._tables[SNAPSHOT_TASKS][new["id"]] = new
        return self._extend(SNAPSHOT_TASKS, new)

    def _snapshot_delete(self, params: list[Any]) -> bool:
        args = _bind(_SnapshotDeleteArgs, params)
        self._tables[SNAPSHOT_TASKS].pop(args.id, None)  # type: ignore[attr-defined]
        return True

    # cloudsync.credentials

    def _unique_name(self, prefix: str, name: str, id_: int | None = None) -> None:
        for other in self._tables[CREDENTIALS].values():
            if other["name"] == name and other["id"] != id_:
                raise _validation([(f"{prefix}.name", "Object with this name already exists", errno.EINVAL)])

    def _credential_create(self, params: list[Any]) -> dict[str, Any]:
        data = _bind(_CredentialCreateArgs, params).cloud_sync_credentials_create.model_dump(warnings=False)  # type: ignore[attr-defined]
        self._unique_name("cloud_sync_credentials_create", data["name"])
        return self._extend(CREDENTIALS, self._tables[CREDENTIALS][self._insert(CREDENTIALS, data)])

    def _credential_update(self, params: list[Any]) -> dict[str, Any]:
        args = _bind(_CredentialUpdateArgs, params)
        data = args.cloud_sync_credentials_update.model_dump(exclude_unset=True, warnings=False)  # type: ignore[attr-defined]
        if "provider" in data:
            data["provider"] = args.cloud_sync_credentials_update.provider.model_dump(warnings=False)  # type: ignore[attr-defined]
        new = self._get(CREDENTIALS, args.id)  # type: ignore[attr-defined]
        new.update(data)
        self._unique_name("cloud_sync_credentials_update", new["name"], new["id"])
        self._tables[CREDENTIALS][new["id"]] = new
        return self._extend(CREDENTIALS, new)

    def _credential_delete(self, params: list[Any]) -> bool:
        id_ = _bind(_IdArgs, params).id  # type: ignore[attr-defined]
        for task in self._tables[CLOUD_SYNC].values():
            if task["credentials"] == id_:
                raise _call_error(f"This credential is used by cloud sync task {task['description'] or task['id']}")
        self._tables[CREDENTIALS].pop(id_, None)
        return True

    # cloudsync

    def _cloud_sync_checks(self, prefix: str, data: dict[str, Any]) -> None:
        issues: list[tuple[str | None, str, int]] = []

        def add(field: str, message: str) -> None:
            issues.append((f"{prefix}.{field}", message, errno.EINVAL))

        if data["encryption"] and not data["encryption_password"]:
            add("encryption_password", "This field is required when encryption is enabled")
        try:
            shlex.split(data["args"])
        except ValueError as exc:
            add("args", f"Parse error: {exc.args[0]}")
        credential = self._tables[CREDENTIALS].get(data["credentials"])
        if credential is None:
            add("credentials", "Invalid credentials")
        else:
            attributes = data["attributes"]
            if "bucket" not in attributes:
                add("attributes.bucket", "attribute required")
            elif not isinstance(attributes["bucket"], str) or not attributes["bucket"]:
                add("attributes.bucket", "Empty value not allowed")
            if "folder" not in attributes:
                add("attributes.folder", "attribute required")
            elif not isinstance(attributes["folder"], str):
                add("attributes.folder", "Not a string")
        if issues:
            raise _validation(issues)
        pools = {name.split("/")[0] for name in self.datasets}
        parts = data["path"].split("/")
        if len(parts) < 3 or parts[0] != "" or parts[1] != "mnt" or parts[2] not in pools or ".." in parts:
            add("path", "The path must reside within a pool mount point")
        for i, (first, second) in enumerate(zip(data["bwlimit"], data["bwlimit"][1:], strict=False)):
            if _time_string(first["time"]) >= _time_string(second["time"]):
                add(f"bwlimit.{i + 1}.time", f"Invalid time order: {first['time']}, {second['time']}")
        if data["snapshot"]:
            if data["direction"] != "PUSH":
                add("snapshot", "This option can only be enabled for PUSH tasks")
            if data["transfer_mode"] == "MOVE":
                add("snapshot", "This option can not be used for MOVE transfer mode")
            dataset = data["path"].removeprefix("/mnt/")
            if any(name.startswith(f"{dataset}/") for name, kind in self.datasets.items() if kind == "FILESYSTEM"):
                add("snapshot", "This option is only available for datasets that have no further nesting")
        if issues:
            raise _validation(issues)

    def _cloud_sync_create(self, params: list[Any]) -> dict[str, Any]:
        if len(params) != 1:
            raise _call_error(f"Too many arguments (expected 1, found {len(params)})", errno.EINVAL)
        data = _legacy_clean("cloud_sync_create", params[0], update=False)
        self._cloud_sync_checks("cloud_sync_create", data)
        return self._extend(CLOUD_SYNC, self._tables[CLOUD_SYNC][self._insert(CLOUD_SYNC, data)])

    def _cloud_sync_update(self, params: list[Any]) -> dict[str, Any]:
        if len(params) != 2 or not isinstance(params[0], int):
            raise _validation([("id", "Not an integer", errno.EINVAL)])
        data = _legacy_clean("cloud_sync_update", params[1], update=True)
        new = self._get(CLOUD_SYNC, params[0])
        new.update(data)
        self._cloud_sync_checks("cloud_sync_update", new)
        self._tables[CLOUD_SYNC][new["id"]] = new
        return self._extend(CLOUD_SYNC, new)

    def _cloud_sync_delete(self, params: list[Any]) -> bool:
        id_ = _bind(_IdArgs, params).id  # type: ignore[attr-defined]
        self._get(CLOUD_SYNC, id_)
        del self._tables[CLOUD_SYNC][id_]
        return True

    # cronjob (plugins/cron.py: validate_data)

    def _cron_checks(self, prefix: str, data: dict[str, Any]) -> None:
        issues: list[tuple[str | None, str, int]] = []
        user = data.get("user")
        if user and " " in user:
            issues.append((f"{prefix}.user", "Usernames cannot have spaces", errno.EINVAL))
        elif user and user not in self.users:
            issues.append((f"{prefix}.user", "Specified user does not exist", errno.EINVAL))
        if not data.get("command"):
            issues.append((f"{prefix}.command", "Please specify a command for cronjob task.", errno.EINVAL))
        if issues:
            raise _validation(issues)

    def _cron_create(self, params: list[Any]) -> dict[str, Any]:
        data = _bind(_CronJobCreateArgs, params).data.model_dump(warnings=False)  # type: ignore[attr-defined]
        self._cron_checks("cron_job_create", data)
        return self._extend(CRON_JOBS, self._tables[CRON_JOBS][self._insert(CRON_JOBS, data)])

    def _cron_update(self, params: list[Any]) -> dict[str, Any]:
        args = _bind(_CronJobUpdateArgs, params)
        model: CronJobUpdate = args.data  # type: ignore[attr-defined]
        data = model.model_dump(exclude_unset=True, warnings=False)
        if "schedule" in data:
            data["schedule"] = model.schedule.model_dump()
        new = self._get(CRON_JOBS, args.id)  # type: ignore[attr-defined]
        new.update(data)
        self._cron_checks("cron_job_update", new)
        self._tables[CRON_JOBS][new["id"]] = new
        return self._extend(CRON_JOBS, new)

    def _cron_delete(self, params: list[Any]) -> bool:
        id_ = _bind(_IdArgs, params).id  # type: ignore[attr-defined]
        self._get(CRON_JOBS, id_)
        del self._tables[CRON_JOBS][id_]
        return True


def _lookup(entry: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(entry, dict):
            return None
        entry = entry.get(part)
    return entry
