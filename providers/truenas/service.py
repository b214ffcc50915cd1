"""What every TrueNAS service resource shares: the connection input, the CRUD lifecycle and the schedule checks.

Each service (`pool.snapshottask`, `cloudsync.credentials`, `cloudsync`) is one module beside this one that describes
its fields and rules; this module talks to the middleware's JSON-RPC API through `providers.truenas.client`, opening
one connection per operation. Every resource takes a `connection` input:

    {"url": "wss://nas.lan/api/current",   # or a pinned version: wss://nas.lan/api/v25.04.0
     "api_key": "<id>-<secret>",            # Credentials > API Keys in the TrueNAS UI
     "verify_tls": True,                    # optional, default True
     "ca_file": "/etc/ssl/nas-ca.pem",      # optional: the CA that signed the NAS certificate
     "ca_pem": "-----BEGIN CERTIFICATE...", # optional: the same, inline
     "connect_timeout": 10, "call_timeout": 60}  # optional, seconds

The caller passes it as a Pulumi secret (`pulumi.Output.secret(...)`). It is kept in the resource's outputs because
refresh and delete only see stored state, and it is declared an additional secret output so it is encrypted there.
Secrets (API key, credential keys, encryption password and salt) never appear in error messages or plain outputs.

An optional `context` input (for example the dataset name) prefixes every error message so a failure in a stack of
many tasks says which one failed.

Existing objects are read by numeric id with `SnapshotTask.get(name, "12", connection=...)` (and the same on the other
resources): the engine's own import (`pulumi import`, the `import_` option) reads without the resource's properties,
so the Python dynamic-provider host cannot find the provider to call.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Collection, Mapping
from datetime import time
from typing import Any, ClassVar, Self

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

from providers import wire
from providers.truenas.client import (
    ConnectionSettings,
    TrueNASAuthError,
    TrueNASCallError,
    TrueNASClient,
    TrueNASError,
    TrueNASTLSError,
    TrueNASUnreachable,
    TrueNASValidationError,
    connection_problems,
)

__all__ = [
    "CRON_KEYS",
    "REDACTED",
    "ServiceProvider",
    "ServiceResource",
    "TrueNASResourceError",
    "bool_problems",
    "hhmm",
    "schedule_problems",
]

REDACTED = "********"
"""What the middleware answers instead of a secret to sessions without the service's WRITE role."""
CRON_KEYS = ("minute", "hour", "dom", "month", "dow")
"""The cron fields of a TrueNAS schedule, each a string."""


class TrueNASResourceError(pulumi.RunError):
    """A TrueNAS task could not be checked, created, read, updated or deleted; the message names it and the fix."""


def hhmm(value: Any) -> str | None:
    """`H:MM`/`HH:MM` as the NAS stores it (`HH:MM`), or None if it is not a time of day."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        return None
    hours, minutes = (int(part) for part in value.split(":"))
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes).strftime("%H:%M")


def schedule_problems(field: str, schedule: Any, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    if wire.has_unknowns(schedule):
        return []
    if not isinstance(schedule, Mapping):
        return [(field, "must be a dict of cron fields {minute, hour, dom, month, dow}")]
    problems = [
        (f"{field}.{key}", f"unknown schedule key; allowed: {', '.join(allowed)}")
        for key in schedule
        if key not in allowed
    ]
    for key in ("begin", "end"):
        if key in allowed and key in schedule and hhmm(schedule[key]) is None:
            problems.append((f"{field}.{key}", "must be a time of day like '08:00'"))
    cron = {key: schedule.get(key) for key in CRON_KEYS}
    typed = True
    for key, value in cron.items():
        if value is not None and not isinstance(value, str):
            problems.append((f"{field}.{key}", "must be a string, e.g. '0' or '*/4' (TrueNAS cron fields are strings)"))
            typed = False
    if typed:
        problems += _cron_problems(field, cron)
    return problems


def _cron_problems(field: str, cron: Mapping[str, str | None]) -> list[tuple[str, str]]:
    values = [cron[key] or "*" for key in CRON_KEYS]
    if any("/" in value and not re.fullmatch(r"(\*|\d+-\d+)/\d+", value) for value in values):
        return [(field, "only '*' or a range may come before '/', e.g. '*/4' or '8-20/2'")]
    expression = " ".join(values)
    from croniter import croniter  # with its dateutil, imported by the checks that use it, not by the program

    try:
        croniter(expression)
    except Exception as exc:  # noqa: BLE001 - croniter raises several unrelated types for bad input
        return [(field, f"{expression!r} is not a valid cron schedule ({exc}); dow runs 1 (Mon) to 7 (Sun)")]
    return []


def bool_problems(inputs: Mapping[str, Any], *fields: str) -> list[tuple[str, str]]:
    return [
        (field, "must be true or false")
        for field in fields
        if field in inputs and not wire.has_unknowns(inputs[field]) and not isinstance(inputs[field], bool)
    ]



class ServiceProvider(ResourceProvider):
    """One middleware CRUD service (`namespace`) as a Pulumi resource; subclasses describe fields and rules.

    Holds no state: the provider is pickled into the Pulumi state, so clients are built inside each method.
    """

    namespace: ClassVar[str]
    kind: ClassVar[str]
    ui_location: ClassVar[str]
    api_fields: ClassVar[tuple[str, ...]]
    local_fields: ClassVar[tuple[str, ...]] = ("connection", "context")
    local_defaults: ClassVar[dict[str, Any]] = {}
    output_fields: ClassVar[tuple[str, ...]] = ()
    delete_before_replace: ClassVar[bool] = False
    hints: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(input field prefix, message fragment, fix) used to explain the NAS's validation errors."""
    union_tags: ClassVar[Mapping[str, Collection[str]]] = {}
    """Input field -> the tags of its tagged union, which the middleware puts into error paths (`provider.B2.key`)."""

    # hooks for subclasses

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _default_label(self, props: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        return {field: entry.get(field) for field in self.api_fields}

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def _replaces(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        return []

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        raise NotImplementedError

    def _delete_params(self, id_: int, props: Mapping[str, Any]) -> list[Any]:
        return [id_]

    def _update_extras(self, news: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    # helpers

    def _label(self, props: Mapping[str, Any]) -> str:
        context = props.get("context")
        if isinstance(context, str) and context and not wire.has_unknowns(context):
            return context
        return self._default_label(props)

    def _payload(self, props: Mapping[str, Any]) -> dict[str, Any]:
        # Numbers come from the engine as doubles; `update` converts its payload the same way.
        return {field: wire.whole_numbers(props[field]) for field in self.api_fields if field in props}

    def _outputs(self, props: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
        live = self._from_entry(entry, props)
        local = {field: props[field] for field in self.local_fields if field in props}
        local.update({field: value for field, value in self.local_defaults.items() if field not in props})
        return {**local, **live, **self._computed(entry)}

    def _settings(self, props: Mapping[str, Any]) -> ConnectionSettings:
        try:
            return ConnectionSettings.from_dict(props.get("connection") or {})
        except ValueError as exc:
            raise TrueNASResourceError(f"{self._label(props)}: bad connection input: {exc}") from None

    def _api_field(self, path: str) -> str:
        """Turn a middleware error path into our input path: drop the argument/schema prefix and union tags."""
        parts = path.split(".") if path else []
        if len(parts) > 1:
            parts = parts[1:]
        if len(parts) > 1 and parts[1] in self.union_tags.get(parts[0], ()):
            parts = [parts[0], *parts[2:]]
        return ".".join(parts) or "(the whole object)"

    def _explain(self, label: str, action: str, exc: TrueNASError) -> TrueNASResourceError:
        what = f"{action} the {self.kind}"
        if isinstance(exc, TrueNASValidationError):
            lines = [
                f"{self._api_field(field)}: {message} -> {self._hint(self._api_field(field), message)}"
                for field, message in exc.errors
            ]
            return TrueNASResourceError(f"{label}: TrueNAS refused to {what}: " + "; ".join(lines))
        if isinstance(exc, TrueNASAuthError | TrueNASTLSError):
            return TrueNASResourceError(f"{label}: cannot {what}: {exc}")
        if isinstance(exc, TrueNASUnreachable):
            return TrueNASResourceError(
                f"{label}: cannot {what} because the NAS is unreachable ({exc}); check that it is up and that "
                "connection.url is right, then run the same pulumi command again (`pulumi refresh` shows what the "
                "NAS holds)"
            )
        if isinstance(exc, TrueNASCallError):
            return TrueNASResourceError(
                f"{label}: TrueNAS could not {what}: {exc.reason} -> {self._hint('', exc.reason)}"
            )
        return TrueNASResourceError(f"{label}: cannot {what}: {exc}")

    def _hint(self, field: str, message: str) -> str:
        for prefix, fragment, fix in self.hints:
            if field.startswith(prefix) and fragment in message:
                return fix
        if "Extra inputs are not permitted" in message or "Field was not expected" in message:
            return (
                "this TrueNAS API version does not know the field; upgrade TrueNAS or pin connection.url to the "
                "version you run (e.g. /api/v25.04.0)"
            )
        if "does not exist" in message:
            return "it was deleted outside Pulumi; run `pulumi refresh`, then `pulumi up` recreates it"
        return f"correct {field or 'the input'} in the program and re-run `pulumi up`"

    def _fetch(self, api: TrueNASClient, id_: int) -> dict[str, Any] | None:
        entries = api.call(f"{self.namespace}.query", [["id", "=", id_]])
        return entries[0] if entries else None

    def _same_object(self, entry: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        live = self._from_entry(entry, props)
        return all(live.get(field) == props.get(field) for field in self.api_fields if field in props)

    # the ResourceProvider contract

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known value; unknowns (preview) in any wire form are left for `up` to judge."""
        received = wire.whole_numbers(news)
        olds, news = wire.reveal(olds), wire.reveal(received)
        allowed = set(self.api_fields) | set(self.local_fields) | set(self.output_fields)
        problems = [
            (key, f"unknown input; allowed: {', '.join(sorted(allowed - set(self.output_fields)))}")
            for key in news
            if not key.startswith("__") and key not in allowed
        ]
        connection = news.get("connection")
        if not wire.has_unknowns(connection):
            problems += connection_problems(connection)
        elif isinstance(connection, Mapping):
            problems += [
                (key, message)
                for key, message in connection_problems(connection)
                if not wire.has_unknowns(connection.get(key.removeprefix("connection.")))
            ]
        if "context" in news and not wire.has_unknowns(news["context"]) and not isinstance(news["context"], str):
            problems.append(("context", "must be a string (a label used in error messages)"))
        problems += self._problems(olds, news)
        label = self._label(news)
        failures = [CheckFailure(prop, f"{label}: {reason}") for prop, reason in problems]
        return CheckResult(wire.keep_secrets(received, self._normalize(dict(news))), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A value not known yet is a possible change; only the fields `_replaces` names force a replacement."""
        olds, news = wire.reveal(olds), wire.reveal(news)
        changed = [
            field for field in (*self.api_fields, *self.local_fields) if wire.differs(olds.get(field), news.get(field))
        ]
        replaces = self._replaces(olds, news) if changed else []
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and self.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        label = self._label(props)
        settings = self._settings(props)
        try:
            with TrueNASClient(settings) as api:
                before = {entry["id"] for entry in api.call(f"{self.namespace}.query", self._identity_filters(props))}
                try:
                    created = api.call(f"{self.namespace}.create", self._payload(props))
                except TrueNASUnreachable as exc:
                    raise self._recover_lost_create(settings, props, before, exc) from exc
                id_ = int(created["id"])
                try:
                    entry = self._fetch(api, id_)
                    if entry is None:
                        raise TrueNASCallError(
                            f"{self.namespace}.query",
                            0,
                            errno.ENOENT,
                            "ENOENT",
                            f"{self.kind} {id_} vanished right after it was created",
                        )
                except TrueNASError as exc:
                    raise self._undo_create(settings, props, id_, exc) from exc
        except TrueNASError as exc:
            raise self._explain(label, "create", exc) from exc
        return CreateResult(str(id_), self._outputs(props, entry))

    def _recover_lost_create(
        self, settings: ConnectionSettings, props: Mapping[str, Any], before: set[int], cause: TrueNASError
    ) -> TrueNASResourceError:
        """The create call got no answer, so it may have been applied: delete what it made and say so."""
        label = self._label(props)
        try:
            with TrueNASClient(settings) as api:
                candidates = api.call(f"{self.namespace}.query", self._identity_filters(props))
                orphans = [e["id"] for e in candidates if e["id"] not in before and self._same_object(e, props)]
                for orphan in orphans:
                    api.call(f"{self.namespace}.delete", *self._delete_params(orphan, props))
        except TrueNASError as exc:
            return TrueNASResourceError(
                f"{label}: the connection dropped while creating the {self.kind} ({cause}), and checking whether it "
                f"was created failed too ({exc}). Before re-running `pulumi up`, look in {self.ui_location} for a "
                f"{self.kind} matching this one and delete it, or it will exist twice"
            )
        if orphans:
            outcome = f"the half-created {self.kind} (id {', '.join(map(str, orphans))}) was deleted again"
        else:
            outcome = f"no {self.kind} was created"
        return TrueNASResourceError(
            f"{label}: the connection dropped while creating the {self.kind} ({cause}); {outcome}, so nothing is "
            "left behind. Re-run `pulumi up`"
        )

    def _undo_create(
        self, settings: ConnectionSettings, props: Mapping[str, Any], id_: int, cause: TrueNASError
    ) -> TrueNASResourceError:
        """A call after a successful create failed: delete the new object so create stays all-or-nothing."""
        label = self._label(props)
        try:
            with TrueNASClient(settings) as api:
                api.call(f"{self.namespace}.delete", *self._delete_params(id_, props))
        except TrueNASError as exc:
            return TrueNASResourceError(
                f"{label}: created {self.kind} {id_} but could not read it back ({cause}), and deleting it again "
                f"failed ({exc}). Delete {self.kind} {id_} in {self.ui_location}, then re-run `pulumi up`"
            )
        return TrueNASResourceError(
            f"{label}: created {self.kind} {id_} but could not read it back ({cause}); it was deleted again, so "
            "nothing is left behind. Re-run `pulumi up`"
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        label = self._label(props)
        if label == self.kind:
            label = f"{self.kind} {id_}"
        if not str(id_).isdigit():
            raise TrueNASResourceError(
                f"{label}: {id_!r} is not a TrueNAS id; import with the numeric id shown by "
                f"`midclt call {self.namespace}.query` (e.g. 12)"
            )
        settings = self._settings(props)
        try:
            with TrueNASClient(settings) as api:
                entry = self._fetch(api, int(id_))
        except TrueNASError as exc:
            raise self._explain(label, "read", exc) from exc
        if entry is None:
            return ReadResult("", {})
        outputs = self._outputs(props, entry)
        inputs = {field: value for field, value in outputs.items() if field not in self.output_fields}
        return ReadResult(id_, outputs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        label = self._label(news)
        payload = {
            field: news[field] for field in self.api_fields if field in news and olds.get(field) != news.get(field)
        }
        if payload:
            payload.update(self._update_extras(news))
        payload = wire.whole_numbers(payload)
        try:
            with TrueNASClient(self._settings(news)) as api:
                if payload:
                    api.call(f"{self.namespace}.update", int(id_), payload)
                entry = self._fetch(api, int(id_))
        except TrueNASError as exc:
            raise self._explain(label, "update", exc) from exc
        if entry is None:
            raise TrueNASResourceError(
                f"{label}: {self.kind} {id_} no longer exists on the NAS (deleted outside Pulumi); run "
                "`pulumi refresh`, then `pulumi up` recreates it"
            )
        return UpdateResult(self._outputs(news, entry))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        label = self._label(props)
        try:
            with TrueNASClient(self._settings(props)) as api:
                api.call(f"{self.namespace}.delete", *self._delete_params(int(id_), props))
        except TrueNASValidationError as exc:
            if exc.not_found:
                return
            raise self._explain(label, "delete", exc) from exc
        except TrueNASError as exc:
            raise self._explain(label, "delete", exc) from exc


def _existing(
    resource: Resource,
    provider: ServiceProvider,
    resource_name: str,
    id_: pulumi.Input[str],
    connection: pulumi.Input[Mapping[str, Any]],
    context: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions | None,
    secrets: tuple[str, ...],
) -> None:
    """Register `resource` as a read of an existing object, so only the id and the connection are needed."""
    props = {
        "connection": connection,
        "context": context,
        **dict.fromkeys((*provider.api_fields, *provider.output_fields)),
    }
    read_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id_))
    Resource.__init__(resource, provider, resource_name, props, wire.with_secret_outputs(read_opts, *secrets))


class ServiceResource(Resource):
    """Shared by the TrueNAS resources: declaring one from its inputs, and reading an existing object by id."""

    provider_class: ClassVar[type[ServiceProvider]]
    secret_outputs: ClassVar[tuple[str, ...]]

    connection: pulumi.Output[dict[str, Any]]
    """How the provider reached the NAS (secret)."""

    def _declare(self, resource_name: str, opts: pulumi.ResourceOptions | None, **inputs: Any) -> None:
        """Register with the inputs given (None means the API default), each computed output seeded empty."""
        provider = self.provider_class()
        props = {
            **{key: value for key, value in inputs.items() if value is not None},
            **dict.fromkeys(provider.output_fields),
        }
        Resource.__init__(self, provider, resource_name, props, wire.with_secret_outputs(opts, *self.secret_outputs))

    @classmethod
    def get(
        cls,
        resource_name: str,
        id: pulumi.Input[str],
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> Self:
        """Read an existing object by its numeric TrueNAS id without managing it.

        The engine's own import reads without the serialized provider, which the Python dynamic-provider host
        cannot serve, so this is how existing TrueNAS objects are brought into a program.
        """
        resource = cls.__new__(cls)
        _existing(resource, cls.provider_class(), resource_name, id, connection, context, opts, cls.secret_outputs)
        return resource


