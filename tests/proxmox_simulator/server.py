"""A stateful loopback stand-in of the Proxmox VE and Proxmox Backup Server APIs, for the proxmox providers' tests.

What is real and what is ours:
- Request validation of PVE calls is PVE's own: every POST/PUT body is checked against PVE's API schema with PVE's
  wording by `fakepve` (PyPI, the schema vendored from the PVE API viewer). fakepve keeps no backup-job state, so
  the jobs themselves live here.
- Calendar events (`schedule`, `gc-schedule`) are checked by `systemd-analyze calendar` where it is installed (PVE's
  format is a subset of systemd's; the bare minute form `*/5` is PVE's own extension and accepted here).
- Everything else follows the published API (pve-docs api-viewer, PBS api-viewer) and the error wording PVE gives
  (fakepve's error catalogue: `No such job`, `Job '<id>' already exists`, `option conflicts with option 'vmid'`).

Fault injection: `fail_next(method, path, status, message)` answers the next matching request with an error;
`edit(...)` changes an object as a user in the web UI would; `remove(...)` deletes it behind the program's back.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from fakepve import schema as pve_schema

from tests.proxmox_simulator import pbs_offsite

JOB_DEFAULTS = {"enabled": 1}
PBS_COLLECTIONS = {
    "sync": ("store", "remote-store", "schedule", "remote", "remove-vanished", "comment", "ns", "remote-ns",
             "sync-direction", "owner", "group-filter", "transfer-last", "encrypted-only", "verified-only",
             "rate-in", "burst-in"),
    "prune": ("store", "schedule", "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly",
              "keep-yearly", "ns", "max-depth", "disable", "comment"),
    "verify": ("store", "schedule", "ignore-verified", "outdated-after", "ns", "max-depth", "comment"),
}
"""The PBS job collections (`/config/<kind>`) and the properties each takes."""
PBS_REQUIRED = {"sync": ("store", "remote-store"), "prune": ("store", "schedule"), "verify": ("store",)}
BOOL = ("1", "0", "true", "false")


class ApiError(Exception):
    """An error answer: HTTP status, PVE's message, and per-parameter errors."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _verification(**errors: str) -> ApiError:
    return ApiError(400, "Parameter verification failed.", errors)


def calendar_refusal(event: str) -> str | None:
    """systemd's verdict on a calendar event (None: accepted, or systemd-analyze is not installed)."""
    if re.fullmatch(r"[\d*,./]+", event) and ":" not in event:
        return None  # PVE's bare minute form, e.g. */5
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    result = subprocess.run([tool, "calendar", event], capture_output=True, text=True, timeout=10, check=False)
    return None if result.returncode == 0 else f"value '{event}' does not look like a valid calendar event"


class ProxmoxSimulator:
    """One PVE cluster or one PBS server on 127.0.0.1, answering `/api2/json/...` with an API token."""

    def __init__(self, service: str = "PVE", token_id: str = "backup@pve!homelab-backups",
                 token_secret: str = "0d5a2c1e-6f11-4a8b-9a57-3c6f1e2b7d44", tls: ssl.SSLContext | None = None,
                 nodes: tuple[str, ...] = ("pve1", "pve2")) -> None:
        self.service = service
        self.token_id, self.token_secret = token_id, token_secret
        self.tls = tls
        self.nodes = list(nodes)
        self.guests: dict[int, dict[str, Any]] = {}
        self.storages: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.pbs: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in PBS_COLLECTIONS}
        self.datastores: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._faults: list[tuple[str, str, int, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.offsite = pbs_offsite.OffsiteState()
        """S3 endpoints, remotes, users, tokens, ACLs and tasks (tests/proxmox_simulator/pbs_offsite.py)."""

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                simulator._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    # --- test controls -----------------------------------------------------------------------------------------

    def add_guest(self, vmid: int, node: str = "pve1", kind: str = "qemu", name: str = "", pool: str = "") -> None:
        self.guests[vmid] = {"vmid": vmid, "node": node, "type": kind, "name": name or f"guest{vmid}", "pool": pool}

    def fail_next(self, method: str, path: str, status: int = 500, message: str = "injected failure") -> None:
        """Answer the next `method` request whose path starts with `path` with an error."""
        self._faults.append((method, path, status, message))

    def edit(self, collection: str, id_: str, **changes: Any) -> None:
        """Change an object as the web UI would (`backup` for PVE jobs, `sync`/`prune`/`verify` for PBS, or
        `datastore`); a value of None deletes the property."""
        with self._lock:
            store = self._collection(collection)[id_]
            for key, value in changes.items():
                key = key.replace("_", "-")
                if value is None:
                    store.pop(key, None)
                else:
                    store[key] = value

    def remove(self, collection: str, id_: str) -> None:
        with self._lock:
            del self._collection(collection)[id_]

    def fail_next_task(self, exitstatus: str) -> None:
        """End the next worker task (a datastore creation) with this error instead of OK."""
        self.offsite.task_failures.append(exitstatus)

    def _collection(self, name: str) -> dict[str, dict[str, Any]]:
        if name in ("s3", "remote", "users", "tokens"):
            return getattr(self.offsite, name)
        if name == "backup":
            return self.jobs
        if name == "datastore":
            return self.datastores
        return self.pbs[name]

    # --- HTTP ---------------------------------------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(http.path)
        method = http.command
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length).decode() if length else ""
        params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if raw:
            if "json" in (http.headers.get("Content-Type") or ""):
                params.update({k: v for k, v in json.loads(raw).items()})
            else:
                params.update(dict(urllib.parse.parse_qsl(raw, keep_blank_values=True)))
        path = parsed.path.removeprefix("/api2/json")
        try:
            self._authenticate(http.headers.get("Authorization") or "")
            with self._lock:
                self.requests.append((method, path, dict(params)))
                for fault in self._faults:
                    if fault[0] == method and path.startswith(fault[1]):
                        self._faults.remove(fault)
                        raise ApiError(fault[2], fault[3])
                data = self._route(method, path, params)
            status, body, reason = 200, {"data": data}, "OK"
            if isinstance(data, pbs_offsite.Answer):
                body = {"data": data.data, "digest": data.digest}
        except ApiError as exc:
            status, reason = exc.status, exc.message
            body = {"data": None, "message": exc.message + "\n"}
            if exc.errors:
                body["errors"] = exc.errors
        payload = json.dumps(body).encode()
        http.send_response(status, reason)
        http.send_header("Content-Type", "application/json;charset=UTF-8")
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        http.wfile.write(payload)

    def _authenticate(self, header: str) -> None:
        separator = "=" if self.service == "PVE" else ":"
        if header != f"{self.service}APIToken={self.token_id}{separator}{self.token_secret}":
            raise ApiError(401, "authentication failure")

    def _route(self, method: str, path: str, params: dict[str, Any]) -> Any:
        if self.service == "PVE":
            return self._pve(method, path, params)
        return self._pbs(method, path, params)

    # --- PVE ----------------------------------------------------------------------------------------------------

    def _validate(self, template: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        match = pve_schema.load().match(template)
        assert match is not None, template
        spec = match.methods[method].get("parameters")
        values, errors = pve_schema.validate(spec, params)
        schedule = params.get("schedule")
        if schedule and "schedule" not in errors:
            why = calendar_refusal(schedule)
            if why:
                errors["schedule"] = why
        if errors:
            raise _verification(**{k: v.strip() for k, v in errors.items()})
        return values

    def _pve(self, method: str, path: str, params: dict[str, Any]) -> Any:
        if path == "/nodes" and method == "GET":
            return [{"node": n, "status": "online", "type": "node"} for n in self.nodes]
        if path == "/cluster/resources" and method == "GET":
            return [{"vmid": g["vmid"], "node": g["node"], "type": g["type"], "name": g["name"],
                     "id": f"{g['type']}/{g['vmid']}", **({"pool": g["pool"]} if g["pool"] else {})}
                    for g in self.guests.values()]
        if path == "/cluster/backup-info/not-backed-up" and method == "GET":
            covered = {v for job in self.jobs.values() if str(job.get("enabled", 1)) != "0"
                       for v in self._included(job)}
            return [{"vmid": g["vmid"], "name": g["name"], "type": g["type"]}
                    for vmid, g in sorted(self.guests.items()) if vmid not in covered]
        if path == "/cluster/backup":
            if method == "GET":
                return [{"id": id_, "type": "vzdump", **job} for id_, job in sorted(self.jobs.items())]
            if method == "POST":
                return self._create_job(params)
        found = re.fullmatch(r"/cluster/backup/([^/]+)(/included_volumes)?", path)
        if found:
            id_ = urllib.parse.unquote(found[1])
            if method == "GET" and found[2]:
                job = self._job(id_)
                return {"children": [{"id": v, "type": self.guests[v]["type"], "name": self.guests[v]["name"]}
                                     for v in self._included(job)]}
            if method == "GET":
                return {"id": id_, "type": "vzdump", **self._job(id_)}
            if method == "PUT":
                return self._update_job(id_, params)
            if method == "DELETE":
                self._job(id_)
                del self.jobs[id_]
                return None
        raise ApiError(501, f"Method '{method} {path}' not implemented")

    def _job(self, id_: str) -> dict[str, Any]:
        if id_ not in self.jobs:
            raise _verification(id=f"No such job '{id_}'")
        return self.jobs[id_]

    def _selection_problems(self, job: dict[str, Any]) -> None:
        if "vmid" in job:
            for other in ("all", "exclude", "pool"):
                if other in job and not (other == "all" and str(job[other]) == "0"):
                    raise _verification(**{other: "option conflicts with option 'vmid'"})
        elif str(job.get("all", 0)) != "1" and "pool" not in job:
            raise _verification(vmid="property is missing")
        if not job.get("schedule") and not job.get("starttime"):
            raise _verification(schedule="neither 'starttime' nor 'schedule' were set")
        if job.get("storage") and self.storages and job["storage"] not in self.storages:
            raise ApiError(500, f"storage '{job['storage']}' does not exist")
        if job.get("node") and job["node"] not in self.nodes:
            raise _verification(node=f"no such cluster node '{job['node']}'")

    def _create_job(self, params: dict[str, Any]) -> None:
        values = self._validate("/cluster/backup", "POST", params)
        id_ = values.pop("id", None) or f"backup-{len(self.jobs) + 1:08x}-0000"
        if id_ in self.jobs:
            raise ApiError(500, f"Job '{id_}' already exists")
        job = {**JOB_DEFAULTS, **{k: v for k, v in values.items() if v not in ("", None)}}
        self._selection_problems(job)
        self.jobs[id_] = job

    def _update_job(self, id_: str, params: dict[str, Any]) -> None:
        if id_ not in self.jobs:
            raise ApiError(500, "no such vzdump job")
        if not params:
            raise ApiError(500, "no options specified")
        values = self._validate("/cluster/backup/{id}", "PUT", {**params, "id": id_})
        values.pop("id", None)
        job = dict(self.jobs[id_])
        for key in pve_schema.formats.split_list(str(values.pop("delete", ""))):
            if key not in pve_schema.load().match("/cluster/backup").methods["POST"]["parameters"]["properties"]:
                raise _verification(delete=f"unknown option '{key}'")
            job.pop(key, None)
        job.update({k: v for k, v in values.items() if v not in ("", None)})
        self._selection_problems(job)
        self.jobs[id_] = job

    def _included(self, job: dict[str, Any]) -> list[int]:
        node = job.get("node")
        guests = [g for g in self.guests.values() if node is None or g["node"] == node]
        if "vmid" in job:
            wanted = {int(v) for v in str(job["vmid"]).split(",")}
            return sorted(g["vmid"] for g in guests if g["vmid"] in wanted)
        if "pool" in job:
            return sorted(g["vmid"] for g in guests if g["pool"] == job["pool"])
        excluded = {int(v) for v in str(job.get("exclude", "")).split(",") if v}
        return sorted(g["vmid"] for g in guests if g["vmid"] not in excluded)

    # --- PBS ----------------------------------------------------------------------------------------------------

    def _pbs(self, method: str, path: str, params: dict[str, Any]) -> Any:
        try:
            return pbs_offsite.route(self, method, path, params)
        except pbs_offsite.NotMine:
            pass
        found = re.fullmatch(r"/config/(sync|prune|verify)(?:/([^/]+))?", path)
        if found:
            kind, id_ = found[1], found[2] and urllib.parse.unquote(found[2])
            jobs = self.pbs[kind]
            if id_ is None and method == "GET":
                return [{"id": k, **v} for k, v in sorted(jobs.items())]
            if id_ is None and method == "POST":
                id_ = params.pop("id", None)
                if not id_:
                    raise _verification(id="property is missing and it is not optional")
                if id_ in jobs:
                    raise ApiError(400, f"job '{id_}' already exists.")
                jobs[id_] = self._pbs_values(kind, params, creating=True)
                return None
            if id_ not in jobs:
                raise ApiError(404, f"job '{id_}' does not exist.")
            if method == "GET":
                return {"id": id_, **jobs[id_]}
            if method == "PUT":
                job = dict(jobs[id_])
                for key in str(params.pop("delete", "")).split(","):
                    if key:
                        job.pop(key, None)
                job.update(self._pbs_values(kind, params, creating=False))
                jobs[id_] = job
                return None
            if method == "DELETE":
                del jobs[id_]
                return None
        found = re.fullmatch(r"/config/datastore/([^/]+)", path)
        if found:
            store = self.datastores.get(found[1])
            if store is None:
                raise ApiError(404, f"datastore '{found[1]}' does not exist.")
            if method == "GET":
                return {"name": found[1], **store}
            if method == "PUT":
                for key in str(params.pop("delete", "")).split(","):
                    if key:
                        store.pop(key, None)
                unknown = sorted(set(params) - {"gc-schedule", "comment", "verify-new", "notification-mode"})
                if unknown:
                    raise _verification(**{k: "schema does not allow additional properties" for k in unknown})
                self._check_schedule("gc-schedule", params)
                store.update(params)
                return None
        raise ApiError(501, f"Method '{method} {path}' not implemented")

    def _pbs_values(self, kind: str, params: dict[str, Any], creating: bool) -> dict[str, Any]:
        allowed = PBS_COLLECTIONS[kind]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise _verification(**{k: "schema does not allow additional properties" for k in unknown})
        if creating:
            missing = [k for k in PBS_REQUIRED[kind] if not params.get(k)]
            if missing:
                raise _verification(**{k: "property is missing and it is not optional" for k in missing})
        for key, value in params.items():
            numeric = key.startswith("keep-") or key in ("outdated-after", "max-depth", "transfer-last")
            if numeric and not str(value).isdigit():
                raise _verification(**{key: f"value '{value}' is not an integer"})
            if key in ("remove-vanished", "ignore-verified", "disable", "encrypted-only", "verified-only") and str(
                    value).lower() not in BOOL:
                raise _verification(**{key: f"value '{value}' is not a boolean"})
        remote = params.get("remote")
        if remote and remote not in self.offsite.remote:
            raise ApiError(400, f"remote '{remote}' does not exist.")
        if params.get("sync-direction") not in (None, "pull", "push"):
            raise _verification(**{"sync-direction": f"value '{params['sync-direction']}' is not defined in the "
                                                      "enumeration."})
        store = params.get("store")
        if store is not None and store not in self.datastores:
            raise ApiError(400, f"datastore '{store}' does not exist.")
        self._check_schedule("schedule", params)
        return dict(params)

    @staticmethod
    def _check_schedule(key: str, params: dict[str, Any]) -> None:
        if params.get(key):
            why = calendar_refusal(str(params[key]))
            if why:
                raise _verification(**{key: why})
