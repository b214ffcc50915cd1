"""The PBS endpoints of the offsite copy, for the stand-in (`server.py` routes PBS requests here first):
S3 endpoints (`/config/s3`), datastore creation and removal with an S3 backend (`/config/datastore`, a worker task
whose status is read at `/nodes/localhost/tasks/{upid}/status`), remotes (`/config/remote`), users, API tokens and
ACLs (`/access/users`, `/access/acl`).

The inconvenient parts follow the published API (PBS api-viewer, PBS docs "Managing Remotes", "User Management"):
- secrets are write-only: GET never returns an S3 endpoint's `secret-key`, a remote's `password` or a token's value
  (the value is in the token's POST answer only);
- config GETs answer a `digest` beside `data`; a PUT with a stale `digest` is refused, one without it is not;
- PUT clears properties listed in `delete`; some cannot be cleared (an S3 endpoint's `endpoint`, keys);
- ids are PBS safe ids of 3 to 32 characters;
- an S3 datastore's `backend` is taken at creation only, and creation is a worker task: the POST answers a UPID
  and the outcome is the task's `exitstatus` (fault injection: `fail_next_task`). A bucket prefix that already
  holds a datastore is refused unless `reuse-datastore` is set (PBS's in-use marker, simplified).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.proxmox_simulator.server import ProxmoxSimulator

SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
S3_FIELDS = ("endpoint", "access-key", "secret-key", "region", "port", "fingerprint", "path-style", "provider-quirks",
             "rate-in", "burst-in", "rate-out", "burst-out")
S3_CLEARABLE = ("region", "port", "fingerprint", "path-style", "provider-quirks", "rate-in", "burst-in", "rate-out",
                "burst-out")
REMOTE_FIELDS = ("host", "port", "auth-id", "password", "fingerprint", "comment")
REMOTE_CLEARABLE = ("port", "fingerprint", "comment")
SECRETS = {"s3": "secret-key", "remote": "password"}
ROLES = ("Admin", "Audit", "NoAccess", "DatastoreAdmin", "DatastoreReader", "DatastoreBackup", "DatastorePowerUser",
         "DatastoreAudit", "RemoteAudit", "RemoteAdmin", "RemoteSyncOperator", "RemoteSyncPushOperator")
MODIFIED = "detected modified configuration - file changed by other user? Try again."


class NotMine(Exception):
    """The request is not for an offsite endpoint (server.py routes it on)."""


class Answer:
    """A `data` answer with a `digest` beside it, as PBS gives config objects."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.digest = digest(data)


def digest(entry: Any) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()


class OffsiteState:
    """What the offsite endpoints keep (inspected by tests; `edit`/`remove` change it as the web UI would)."""

    def remove_token(self, tokenid: str) -> None:
        """Delete a token as the web UI does: its ACL entries go with it."""
        del self.tokens[tokenid]
        self.acl = [e for e in self.acl if e["ugid"] != tokenid]

    def __init__(self) -> None:
        self.s3: dict[str, dict[str, Any]] = {}
        self.remote: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        """`user!name` -> {"value": secret, "comment": ...}."""
        self.acl: list[dict[str, Any]] = []
        self.tasks: dict[str, str] = {}
        self.used_prefixes: set[tuple[str, str, str]] = set()
        """(endpoint, bucket, datastore) that once held a datastore: its in-use marker stays in the bucket."""
        self.task_failures: list[str] = []


def route(sim: ProxmoxSimulator, method: str, path: str, params: dict[str, Any]) -> Any:
    """Answer an offsite request, or raise NotMine."""
    from tests.proxmox_simulator.server import ApiError, _verification

    state = sim.offsite
    found = re.fullmatch(r"/config/(s3|remote)(?:/([^/]+))?", path)
    if found:
        kind, id_ = found[1], found[2] and urllib.parse.unquote(found[2])
        entries = getattr(state, kind)
        fields, clearable = (S3_FIELDS, S3_CLEARABLE) if kind == "s3" else (REMOTE_FIELDS, REMOTE_CLEARABLE)
        if id_ is None and method == "GET":
            return [{("id" if kind == "s3" else "name"): k, **_public(kind, v)} for k, v in sorted(entries.items())]
        if id_ is None and method == "POST":
            id_ = str(params.pop("id" if kind == "s3" else "name", "") or "")
            _check_id("id" if kind == "s3" else "name", id_)
            if id_ in entries:
                raise ApiError(400, f"{kind} '{id_}' already exists.")
            required = ("endpoint", "access-key", "secret-key") if kind == "s3" else ("host", "auth-id", "password")
            missing = [k for k in required if not params.get(k)]
            if missing:
                raise _verification(**{k: "property is missing and it is not optional" for k in missing})
            entries[id_] = _values(params, fields)
            return None
        if id_ not in entries:
            raise ApiError(404, f"{kind} '{id_}' does not exist.")
        if method == "GET":
            return Answer({("id" if kind == "s3" else "name"): id_, **_public(kind, entries[id_])})
        if method == "PUT":
            _check_digest(kind, id_, entries[id_], params.pop("digest", None))
            entry = dict(entries[id_])
            for key in _split(params.pop("delete", "")):
                if key not in clearable:
                    raise _verification(delete=f"unable to delete '{key}'")
                entry.pop(key, None)
            entry.update(_values(params, fields))
            entries[id_] = entry
            return None
        if method == "DELETE":
            if kind == "remote":
                users = [k for k, job in sim.pbs["sync"].items() if job.get("remote") == id_]
                if users:
                    raise ApiError(400, f"remote '{id_}' is used by sync job '{users[0]}'")
            del entries[id_]
            return None
    if path == "/config/datastore" and method == "POST":
        return _create_datastore(sim, params)
    found = re.fullmatch(r"/config/datastore/([^/]+)", path)
    if found and method == "DELETE":
        name = urllib.parse.unquote(found[1])
        if name not in sim.datastores:
            raise ApiError(404, f"datastore '{name}' does not exist.")
        del sim.datastores[name]
        kept = str(params.get("keep-job-configs", "0")).lower() in ("1", "true")
        for kind in () if kept else ("sync", "prune", "verify"):  # PBS removes the datastore's jobs with it
            for job_id in [k for k, job in sim.pbs[kind].items() if job.get("store") == name]:
                del sim.pbs[kind][job_id]
        return _task(sim, "delete-datastore", name, None)
    found = re.fullmatch(r"/nodes/localhost/tasks/([^/]+)/status", path)
    if found and method == "GET":
        upid = urllib.parse.unquote(found[1])
        if upid not in state.tasks:
            raise ApiError(404, f"no such task '{upid}'")
        return {"upid": upid, "status": "stopped", "exitstatus": state.tasks[upid]}
    return _access(sim, method, path, params)


def _access(sim: ProxmoxSimulator, method: str, path: str, params: dict[str, Any]) -> Any:
    from tests.proxmox_simulator.server import ApiError, _verification

    state = sim.offsite
    if path == "/access/users" and method == "GET":
        return [{"userid": k, **v} for k, v in sorted(state.users.items())]
    if path == "/access/users" and method == "POST":
        userid = str(params.pop("userid", ""))
        if not re.fullmatch(r"[^\s:/@!]+@[A-Za-z0-9_][A-Za-z0-9._-]*", userid):
            raise _verification(userid="value does not match the regex pattern")
        if userid in state.users:
            raise ApiError(400, f"user '{userid}' already exists.")
        state.users[userid] = {"enable": 1, **{k: v for k, v in params.items() if k in ("comment", "enable")}}
        return None
    found = re.fullmatch(r"/access/users/([^/]+)(?:/token/([^/]+))?", path)
    if found:
        userid = urllib.parse.unquote(found[1])
        name = found[2] and urllib.parse.unquote(found[2])
        if userid not in state.users:
            raise ApiError(404, f"user '{userid}' does not exist.")
        if name is None:
            if method == "GET":
                return {"userid": userid, **state.users[userid]}
            if method == "DELETE":
                del state.users[userid]
                for token in [t for t in state.tokens if t.startswith(userid + "!")]:
                    del state.tokens[token]
                state.acl = [e for e in state.acl if e["ugid"].split("!")[0] != userid]
                return None
        else:
            tokenid = f"{userid}!{name}"
            if method == "POST":
                if not SAFE_ID.match(name):
                    raise _verification(**{"token-name": "value does not match the regex pattern"})
                if tokenid in state.tokens:
                    raise ApiError(400, f"token '{name}' for user '{userid}' already exists.")
                value = str(uuid.uuid4())  # PBS generates a random UUID per token
                state.tokens[tokenid] = {"value": value, "comment": params.get("comment", "")}
                return {"tokenid": tokenid, "value": value}
            if tokenid not in state.tokens:
                raise ApiError(404, f"no such token '{name}' for user '{userid}'")
            if method == "GET":
                return {"tokenid": tokenid, "comment": state.tokens[tokenid]["comment"], "enable": True}
            if method == "DELETE":
                del state.tokens[tokenid]
                state.acl = [e for e in state.acl if e["ugid"] != tokenid]
                return None
    if path == "/access/acl" and method == "GET":
        return [dict(e) for e in state.acl]
    if path == "/access/acl" and method == "PUT":
        ugid, role, acl_path = params.get("auth-id"), params.get("role"), params.get("path")
        if not ugid or not role or not acl_path:
            missing = [k for k in ("path", "role", "auth-id") if not params.get(k)]
            raise _verification(**{k: "property is missing and it is not optional" for k in missing})
        if role not in ROLES:
            raise _verification(role=f"value '{role}' is not defined in the enumeration.")
        user = ugid.split("!")[0]
        removing = str(params.get("delete", "0")).lower() in ("1", "true")
        if not removing and (user not in state.users or ("!" in ugid and ugid not in state.tokens)):
            raise ApiError(400, f"no such user/token '{ugid}'")
        entry = {"path": acl_path, "ugid": ugid, "ugid_type": "user", "roleid": role,
                 "propagate": int(str(params.get("propagate", "1")).lower() in ("1", "true"))}
        state.acl = [e for e in state.acl if (e["path"], e["ugid"], e["roleid"]) != (acl_path, ugid, role)]
        if not removing:
            state.acl.append(entry)
        return None
    raise NotMine


def _create_datastore(sim: ProxmoxSimulator, params: dict[str, Any]) -> str:
    from tests.proxmox_simulator.server import ApiError, _verification

    name = str(params.get("name", ""))
    _check_id("name", name)
    if not params.get("path"):
        raise _verification(path="property is missing and it is not optional")
    if name in sim.datastores:
        raise ApiError(400, f"datastore '{name}' already exists.")
    unknown = sorted(set(params) - {"name", "path", "backend", "comment", "gc-schedule", "reuse-datastore",
                                    "overwrite-in-use", "notification-mode", "verify-new"})
    if unknown:
        raise _verification(**{k: "schema does not allow additional properties" for k in unknown})
    backend = _backend(str(params.get("backend", "")))
    entry = {k: v for k, v in params.items() if k in ("path", "backend", "comment", "gc-schedule")}
    failure = sim.offsite.task_failures.pop(0) if sim.offsite.task_failures else None
    if backend is not None and failure is None:
        client = backend.get("client")
        if client not in sim.offsite.s3:
            raise _verification(backend=f"s3 client '{client}' does not exist")
        marker = (sim.offsite.s3[client]["endpoint"], backend.get("bucket", ""), name)
        if marker in sim.offsite.used_prefixes and str(params.get("reuse-datastore", "0")).lower() not in ("1",
                                                                                                         "true"):
            failure = (f"datastore '{name}' already exists in bucket '{marker[1]}' (in-use marker found): set "
                       "reuse-datastore to re-use it")
        else:
            sim.offsite.used_prefixes.add(marker)
    if failure is None:
        sim.datastores[name] = entry
    return _task(sim, "create-datastore", name, failure)


def _backend(text: str) -> dict[str, str] | None:
    from tests.proxmox_simulator.server import _verification

    if not text:
        return None
    parts = dict(item.split("=", 1) for item in text.split(",") if "=" in item)
    if parts.get("type") != "s3" or not parts.get("client") or not parts.get("bucket"):
        raise _verification(backend=f"value '{text}' is not a valid datastore backend config "
                                    "(type=s3,client=<id>,bucket=<bucket>)")
    return parts


def _task(sim: ProxmoxSimulator, kind: str, name: str, failure: str | None) -> str:
    upid = f"UPID:localhost:00001234:00005678:{len(sim.offsite.tasks):08X}:6560F3A1:{kind}:{name}:root@pam:"
    sim.offsite.tasks[upid] = failure or "OK"
    return upid


def _check_id(key: str, value: str) -> None:
    from tests.proxmox_simulator.server import _verification

    if not value:
        raise _verification(**{key: "property is missing and it is not optional"})
    if not 3 <= len(value) <= 32:
        raise _verification(**{key: f"value must be at least 3 and at most 32 characters long ({value!r})"})
    if not SAFE_ID.match(value):
        raise _verification(**{key: "value does not match the regex pattern"})


def _check_digest(kind: str, id_: str, entry: dict[str, Any], given: str | None) -> None:
    from tests.proxmox_simulator.server import ApiError

    if given and given != digest({("id" if kind == "s3" else "name"): id_, **_public(kind, entry)}):
        raise ApiError(400, MODIFIED)


def _values(params: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    from tests.proxmox_simulator.server import _verification

    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise _verification(**{k: "schema does not allow additional properties" for k in unknown})
    if "port" in params and not str(params["port"]).isdigit():
        raise _verification(port=f"value '{params['port']}' is not an integer")
    if "fingerprint" in params and not re.fullmatch(r"([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}", str(params["fingerprint"])):
        raise _verification(fingerprint="value does not match the regex pattern")
    return dict(params)


def _public(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != SECRETS[kind]}


def _split(text: Any) -> list[str]:
    return [k for k in re.split(r"[,;\s]+", str(text or "")) if k]
