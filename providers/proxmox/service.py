"""What every Proxmox configuration object shares: the connection, the token, the CRUD lifecycle over one collection.

PVE and PBS keep backup, sync, prune and verify jobs as named entries of a collection (`/cluster/backup/{id}`,
`/config/sync/{id}`...): POST creates an entry with its id, GET reads it, PUT changes the given properties and clears
the ones listed in `delete`, DELETE removes it. One provider class per collection describes its properties; this
module does the rest. Every resource takes a `connection` input (not secret):

    {"url": "https://pve1.lan:8006", "token_id": "backup@pve!homelab-backups",
     "verify_tls": True, "ca_file": "/etc/pve/pve-root-ca.pem"}

and names the stack credential that holds the token secret (`credentials_entry`, e.g. `proxmox` ->
`credentials.proxmox.token_secret` or HLB_PROXMOX_TOKEN_SECRET). The secret is read by the provider at operation time
(providers/wire.py `provisioned`): it is never a resource input, never in the state, and a rotated token changes
nothing. An optional `context` (the guest group) prefixes every error.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from plan.proxmox import calendar_problem
from providers import wire

if TYPE_CHECKING:
    from proxmoxer import ProxmoxAPI

__all__ = ["CollectionProvider", "CollectionResource", "Field", "ProxmoxResourceError", "api_errors", "connect"]

TOKEN = "token"
"""The input the provisioning decorator fills with {token_secret} from the provider's configuration."""
LOCAL = ("connection", wire.CREDENTIALS_ENTRY, "context", TOKEN)


class ProxmoxResourceError(pulumi.RunError):
    """A Proxmox object could not be created, read, updated or deleted; the message names it, the cause and the fix."""


@dataclass(frozen=True)
class Field:
    """One property: the input's name, the API's, its type, and what the API assumes when it is absent."""

    name: str
    api: str
    type: type = str
    default: Any = None
    calendar: bool = False
    """A calendar event (checked as PVE parses it)."""


def api_errors() -> tuple[type[Exception], type[Exception]]:
    """What a failed API call raises: proxmoxer's refusal (ResourceException) and requests' transport errors.

    proxmoxer and requests (0.2 s of imports) are imported on the first call to the API, not with this module: the
    program only declares resources, and a preview's check and diff never call the API. `except api_errors()` is
    evaluated only when an exception reaches it."""
    from proxmoxer.core import ResourceException
    from requests.exceptions import RequestException

    return ResourceException, RequestException


def connect(connection: Mapping[str, Any], token: Mapping[str, Any], service: str) -> ProxmoxAPI:
    """A proxmoxer client for one operation (never kept on the pickled provider)."""
    from proxmoxer import ProxmoxAPI

    url = urllib.parse.urlsplit(str(connection["url"]))
    user, name = str(connection["token_id"]).split("!", 1)
    verify: bool | str = connection.get("ca_file") or bool(connection.get("verify_tls", True))
    return ProxmoxAPI(f"{url.hostname}:{url.port or (8006 if service == 'PVE' else 8007)}", user=user,
                      token_name=name, token_value=str(token["token_secret"]), verify_ssl=verify, service=service,
                      timeout=30)


def _encode(field: Field, value: Any) -> Any:
    """A value as the API takes it: booleans as 1/0, and whole numbers as ints (every number crosses the engine's
    wire as a double: 7 arrives as 7.0, which PBS refuses as "not an integer")."""
    value = wire.whole(wire.reveal(value))
    if field.type is bool:
        return 1 if value else 0
    return value


def _decode(field: Field, value: Any) -> Any:
    if value is None:
        return field.default
    if field.type is bool:
        return str(value).lower() in ("1", "true", "yes", "on")
    if field.type is int:
        return int(value)
    return str(value)


class CollectionProvider(ResourceProvider):
    """CRUD of one named entry in a PVE/PBS collection; subclasses list the fields."""

    service: ClassVar[str] = "PVE"
    path: ClassVar[str]
    """The collection, e.g. `cluster/backup`."""
    kind: ClassVar[str]
    """Words for messages, e.g. `PVE backup job`."""
    ui_location: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]
    required: ClassVar[tuple[str, ...]] = ()
    replaces: ClassVar[tuple[str, ...]] = ("job_id",)
    """Inputs whose change replaces the entry (its id, and what the API only takes at creation)."""

    # --- helpers --------------------------------------------------------------------------------------------------

    def _label(self, props: Mapping[str, Any]) -> str:
        context = props.get("context")
        prefix = f"{context}: " if isinstance(context, str) and context else ""
        return f"{prefix}{self.kind} {props.get('job_id')!r}"

    def _api(self, props: Mapping[str, Any]) -> ProxmoxAPI:
        return connect(wire.reveal(props["connection"]), wire.reveal(props[TOKEN]), self.service)

    def _entry(self, api: ProxmoxAPI, id_: str) -> Any:
        return api(f"{self.path}/{urllib.parse.quote(id_, safe='')}")

    def _fail(self, props: Mapping[str, Any], action: str, exc: Exception) -> ProxmoxResourceError:
        import requests.exceptions

        resource_exception, _ = api_errors()
        if isinstance(exc, resource_exception):
            detail = f"HTTP {exc.status_code} {str(exc.content).strip()}"
            if exc.errors:
                detail += ": " + "; ".join(f"{k}: {str(v).strip()}" for k, v in sorted(dict(exc.errors).items()))
            if exc.status_code == 401:
                fix = (f"check that {props.get('connection', {}).get('token_id')!r} exists and credentials."
                       f"{props.get(wire.CREDENTIALS_ENTRY)}.token_secret is its secret")
            elif exc.status_code == 403:
                fix = "give the token the privilege the path needs (Datacenter > Permissions)"
            else:
                fix = f"fix the value named above (compare with {self.ui_location} in the web UI)"
        elif isinstance(exc, requests.exceptions.SSLError):
            detail, fix = f"TLS verification failed ({exc})", "set ca_file to the CA that signed the API's certificate"
        elif isinstance(exc, requests.exceptions.RequestException):
            detail, fix = f"unreachable ({type(exc).__name__})", "check api_url and that the API answers there"
        else:
            raise exc
        return ProxmoxResourceError(f"{self._label(props)}: {action} failed: {detail}; {fix}")

    @staticmethod
    def _missing(exc: Exception) -> bool:
        if not isinstance(exc, api_errors()[0]):
            return False
        text = f"{exc.content} {exc.errors}".lower()
        return exc.status_code == 404 or "no such job" in text or "does not exist" in text

    def _body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {f.api: _encode(f, props[f.name]) for f in self.fields if props.get(f.name) is not None}

    def _live(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {f.name: _decode(f, entry.get(f.api)) for f in self.fields}

    # --- the contract ---------------------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad field; unknown values (preview) pass. Absent fields take the API's default."""
        values = dict(news)
        failures = []
        for name in ("job_id", *self.required):
            if values.get(name) is None:
                failures.append(CheckFailure(name, f"required: {self._requirement(name)}"))
        for field in self.fields:
            value = values.get(field.name)
            if value is None:
                if field.default is not None:
                    values[field.name] = field.default
                continue
            if not wire.known(value):
                continue
            value = wire.whole(wire.reveal(value))
            values[field.name] = value
            if field.type is bool and not isinstance(value, bool):
                failures.append(CheckFailure(field.name, "must be true or false"))
            elif field.type is int and not wire.is_int(value):
                failures.append(CheckFailure(field.name, "must be a whole number"))
            elif field.type is str and not isinstance(value, str):
                failures.append(CheckFailure(field.name, "must be a string"))
            elif field.calendar and calendar_problem(value):
                failures.append(CheckFailure(field.name, f"{value!r} is not a calendar event PVE/PBS can parse: "
                                             f"{calendar_problem(value)}; write e.g. '21:00' or 'mon..fri 02:30'"))
        failures += [CheckFailure(name, message) for name, message in self._problems(values)]
        return CheckResult(values, failures)

    def _requirement(self, name: str) -> str:
        return "the job's id" if name == "job_id" else f"the {name}"

    def _problems(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Changed fields are updated in place, except `replaces` (the id), which recreate the entry."""
        names = [f.name for f in self.fields] + ["job_id", "connection", "tier", "context", wire.CREDENTIALS_ENTRY]
        changed = [n for n in names if wire.differs(olds.get(n), news.get(n))]
        replaces = [n for n in changed if n in self.replaces]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """POST the entry with its id; nothing is left behind when the API refuses it."""
        try:
            self._post(self._api(props), props)
        except api_errors() as exc:
            raise self._fail(props, "create", exc) from exc
        return CreateResult(str(props["job_id"]), {k: v for k, v in props.items() if k != TOKEN})

    def _post(self, api: ProxmoxAPI, props: Mapping[str, Any]) -> None:
        api(self.path).post(id=props["job_id"], **self._body(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The entry as the API has it now: UI edits show up as changed inputs; a deleted entry reads as gone."""
        try:
            entry = self._get(self._api(props), id_)
        except api_errors() as exc:
            if self._missing(exc):
                return ReadResult(None, {})  # type: ignore[arg-type]
            raise self._fail(props, "read", exc) from exc
        state = {**{k: v for k, v in props.items() if k != TOKEN}, "job_id": id_, **self._live(entry)}
        return ReadResult(id_, state, state)

    def _get(self, api: ProxmoxAPI, id_: str) -> Mapping[str, Any]:
        return self._entry(api, id_).get()

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PUT the fields given and `delete` the managed ones now unset (a selector switched, a comment removed)."""
        body = self._body(news)
        cleared = [f.api for f in self.fields if news.get(f.name) is None]
        try:
            self._put(self._api(news), id_, body, cleared)
        except api_errors() as exc:
            raise self._fail(news, "update", exc) from exc
        return UpdateResult({k: v for k, v in news.items() if k != TOKEN})

    def _put(self, api: ProxmoxAPI, id_: str, body: dict[str, Any], cleared: list[str]) -> None:
        self._entry(api, id_).put(**body, **({"delete": ",".join(cleared)} if cleared else {}))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE the entry; one already gone (deleted in the UI) is fine."""
        try:
            self._remove(self._api(props), id_)
        except api_errors() as exc:
            if self._missing(exc):
                return
            raise self._fail(props, "delete", exc) from exc

    def _remove(self, api: ProxmoxAPI, id_: str) -> None:
        self._entry(api, id_).delete()


class CollectionResource(Resource):
    """Shared by the Proxmox resources: registering from inputs (None: the API's default)."""

    provider_class: ClassVar[type[CollectionProvider]]

    job_id: pulumi.Output[str]
    """The entry's id in its collection."""
    connection: pulumi.Output[dict[str, Any]]
    """Where the API is and which token id signs in (not secret: the token secret is never here)."""
    credentials_entry: pulumi.Output[str]
    """The stack credential holding the token secret."""

    def _declare(self, resource_name: str, opts: pulumi.ResourceOptions | None, **inputs: Any) -> None:
        props = {key: value for key, value in inputs.items() if value is not None}
        Resource.__init__(self, self.provider_class(), resource_name, props, opts)
