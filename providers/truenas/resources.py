"""Pulumi dynamic resources for TrueNAS tasks: periodic snapshots, cloud credentials and cloud sync tasks.

Each resource talks to the middleware's JSON-RPC API through `providers.truenas.client`, opening one connection per
operation. Every resource takes a `connection` input:

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
import shlex
from collections.abc import Mapping
from datetime import time
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import pulumi
from croniter import croniter
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
    "CloudCredential",
    "CloudCredentialProvider",
    "CloudSyncTask",
    "CloudSyncTaskProvider",
    "SnapshotTask",
    "SnapshotTaskProvider",
    "TrueNASResourceError",
    "healthchecks_scripts",
    "naming_schema_problem",
]

REDACTED = "********"
"""What the middleware answers instead of a secret to sessions without the service's WRITE role."""
DEFAULT_NAMING_SCHEMA = "auto-%Y-%m-%d_%H-%M"
LIFETIME_UNITS = ("HOUR", "DAY", "WEEK", "MONTH", "YEAR")
CRON_KEYS = ("minute", "hour", "dom", "month", "dow")
CREDENTIAL_SHAPES: dict[str, dict[str, Any]] = {
    "B2": {"account": None, "key": None},
    "S3": {
        "access_key_id": None,
        "secret_access_key": None,
        "endpoint": "",
        "region": "",
        "skip_region": False,
        "signatures_v2": False,
        "max_upload_parts": 10000,
    },
}
"""25.04 `provider` shapes this resource supports: required keys map to None, optional keys to the API default."""
_SNAPSHOT_SCHEDULE_DEFAULTS = {
    "minute": "00",
    "hour": "*",
    "dom": "*",
    "month": "*",
    "dow": "*",
    "begin": "00:00",
    "end": "23:59",
}
_CLOUD_SYNC_SCHEDULE_DEFAULTS = {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}


class TrueNASResourceError(pulumi.RunError):
    """A TrueNAS task could not be checked, created, read, updated or deleted; the message names it and the fix."""


# --- pure helpers --------------------------------------------------------------------------------------------------


def healthchecks_scripts(ping_url: str) -> tuple[str, str]:
    """Pre/post scripts for a cloud sync task that ping a Healthchecks check: `/start` before, success after.

    TrueNAS runs the post script only when rclone succeeded, so a failed run sends no success ping and the check's
    grace period raises the alert. The pre ping ends in `|| true`: a non-zero pre script aborts the sync, and a
    monitoring outage must never stop a backup. The post ping does not: when it fails (wrong ping key, Healthchecks
    unreachable) the task ends FAILED on the NAS instead of looking fine while alerting is dead. The scripts run
    with the encryption password in their environment
    (CLOUD_SYNC_ENCRYPTION_PASSWORD), so they print nothing and never echo the environment.
    """
    parts = urlsplit(ping_url.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path.strip("/") == ""
        or re.search(r"[\s'\"`$\\;&|<>(){}]", ping_url.strip())
    ):
        raise ValueError(
            "ping_url must be a plain http(s) Healthchecks ping URL such as https://hc-ping.com/<uuid> "
            "or <ping endpoint>/<ping-key>/<slug>"
        )
    success = urlunsplit(parts._replace(path=parts.path.rstrip("/"), fragment=""))
    start = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/start", fragment=""))
    command = "curl -fsS -m 10 --retry 5 -o /dev/null"
    header = "#!/bin/sh\n# Healthchecks ping managed by Pulumi (homelab-backups); prints nothing.\n"
    return f"{header}{command} {shlex.quote(start)} || true\n", f"{header}{command} {shlex.quote(success)}\n"


def naming_schema_problem(schema: str) -> str | None:
    """Why TrueNAS (zettarepl) would refuse this snapshot naming schema, or None if it is valid."""
    if "%%" in schema:
        return "'%%' is not allowed (a literal % cannot appear in a ZFS snapshot name)"
    bad = sorted(set(re.findall(r"[^0-9A-Za-z %_.:-]", schema)))
    if bad:
        return f"characters {' '.join(bad)} are not allowed; use only letters, digits, space and % _ . : -"
    if "%s" in schema:
        if re.search("%[^s]", schema):
            return "%s (epoch seconds) cannot be combined with other placeholders"
    else:
        missing = [token for token in ("%Y", "%m", "%d", "%H", "%M") if token not in schema]
        if missing:
            return f"must contain %Y %m %d %H %M (missing {' '.join(missing)}), e.g. {DEFAULT_NAMING_SCHEMA!r}"
    if re.search("(^|[^%])%z", schema) and ":" in schema:
        return "%z and ':' cannot be used together (ZFS names cannot contain '+', TrueNAS writes ':' for it)"
    return None


def _hhmm(value: Any) -> str | None:
    """`H:MM`/`HH:MM` as the NAS stores it (`HH:MM`), or None if it is not a time of day."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        return None
    hours, minutes = (int(part) for part in value.split(":"))
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes).strftime("%H:%M")


def _schedule_problems(field: str, schedule: Any, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
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
        if key in allowed and key in schedule and _hhmm(schedule[key]) is None:
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
    try:
        croniter(expression)
    except Exception as exc:  # noqa: BLE001 - croniter raises several unrelated types for bad input
        return [(field, f"{expression!r} is not a valid cron schedule ({exc}); dow runs 1 (Mon) to 7 (Sun)")]
    return []


def _bool_problems(inputs: Mapping[str, Any], *fields: str) -> list[tuple[str, str]]:
    return [
        (field, "must be true or false")
        for field in fields
        if field in inputs and not wire.has_unknowns(inputs[field]) and not isinstance(inputs[field], bool)
    ]


def _api_field(path: str) -> str:
    """Turn a middleware error path into our input path: drop the argument/schema prefix and union tags."""
    parts = path.split(".") if path else []
    if len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "provider" and parts[1] in CREDENTIAL_SHAPES:
        parts = [parts[0], *parts[2:]]
    return ".".join(parts) or "(the whole object)"


# --- the shared lifecycle ------------------------------------------------------------------------------------------


class _TrueNASProvider(ResourceProvider):
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

    def _explain(self, label: str, action: str, exc: TrueNASError) -> TrueNASResourceError:
        what = f"{action} the {self.kind}"
        if isinstance(exc, TrueNASValidationError):
            lines = [
                f"{_api_field(field)}: {message} -> {self._hint(_api_field(field), message)}"
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


# --- pool.snapshottask ---------------------------------------------------------------------------------------------


class SnapshotTaskProvider(_TrueNASProvider):
    """`pool.snapshottask`: one periodic ZFS snapshot task (the plan makes one per GFS level).

    Every field, the dataset included, can be changed by `pool.snapshottask.update`, so nothing forces a replacement.
    """

    namespace = "pool.snapshottask"
    kind = "periodic snapshot task"
    ui_location = "Data Protection > Periodic Snapshot Tasks"
    api_fields = (
        "dataset",
        "recursive",
        "exclude",
        "lifetime_value",
        "lifetime_unit",
        "naming_schema",
        "schedule",
        "enabled",
        "allow_empty",
    )
    local_fields = ("connection", "context", "fixate_removal_date")
    local_defaults = {"fixate_removal_date": False}
    output_fields = ("task_id",)
    hints = (
        ("dataset", "Dataset not found", "create the dataset first or fix the name: pool/dataset, without /mnt/"),
        ("exclude", "non-recursive", "set recursive=true or drop exclude"),
        ("exclude", "child", "exclude only descendants of the dataset, written as pool/dataset/child"),
        ("naming_schema", "", f"use letters, digits and % _ . : - with %Y %m %d %H %M, e.g. {DEFAULT_NAMING_SCHEMA!r}"),
        ("schedule", "", "use cron strings {minute, hour, dom, month, dow} (dow 1=Mon..7=Sun) and begin/end 'HH:MM'"),
        ("enabled", "replication", "disable the replication task bound to this snapshot task first"),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        dataset = props.get("dataset")
        known = isinstance(dataset, str) and not wire.has_unknowns(dataset)
        return f"snapshot task for {dataset}" if known else self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _bool_problems(news, "recursive", "enabled", "allow_empty", "fixate_removal_date")
        dataset = news.get("dataset")
        if "dataset" not in news:
            problems.append(("dataset", "required: the ZFS dataset to snapshot, e.g. tank/photos"))
        elif not wire.has_unknowns(dataset) and (
            not isinstance(dataset, str) or not re.fullmatch(r"[A-Za-z0-9][\w.:-]*(/[\w.: -]+)*", dataset)
        ):
            problems.append(("dataset", "must be a ZFS dataset name like tank/photos (no /mnt/ prefix, no trailing /)"))
        lifetime = news.get("lifetime_value")
        if lifetime is not None and not wire.has_unknowns(lifetime) and (not wire.is_int(lifetime) or lifetime < 1):
            problems.append(("lifetime_value", "must be a whole number >= 1 (how many lifetime_units to keep)"))
        unit = news.get("lifetime_unit")
        if unit is not None and not wire.has_unknowns(unit) and unit not in LIFETIME_UNITS:
            problems.append(("lifetime_unit", f"must be one of {', '.join(LIFETIME_UNITS)}"))
        schema = news.get("naming_schema")
        if schema is not None and not wire.has_unknowns(schema):
            reason = naming_schema_problem(schema) if isinstance(schema, str) else "must be a string"
            if reason:
                problems.append(("naming_schema", reason))
        exclude = news.get("exclude")
        if exclude is not None and not wire.has_unknowns(exclude):
            if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
                problems.append(("exclude", "must be a list of dataset names"))
            elif exclude:
                if news.get("recursive") is not True and not wire.has_unknowns(news.get("recursive")):
                    problems.append(("exclude", "only works with recursive=true; set it or drop exclude"))
                if isinstance(dataset, str) and not wire.has_unknowns(dataset):
                    problems += [
                        (f"exclude[{i}]", f"{item!r} is not below {dataset}; exclude only its descendants")
                        for i, item in enumerate(exclude)
                        if not item.startswith(f"{dataset}/")
                    ]
        if "schedule" in news:
            problems += _schedule_problems("schedule", news["schedule"], (*CRON_KEYS, "begin", "end"))
        return problems

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        defaults = {
            "recursive": False,
            "exclude": [],
            "lifetime_value": 2,
            "lifetime_unit": "WEEK",
            "naming_schema": DEFAULT_NAMING_SCHEMA,
            "enabled": True,
            "allow_empty": True,
            "fixate_removal_date": False,
        }
        for field, default in defaults.items():
            if inputs.get(field) is None:
                inputs[field] = default
        schedule = inputs.get("schedule")
        if schedule is None:
            inputs["schedule"] = dict(_SNAPSHOT_SCHEDULE_DEFAULTS)
        elif isinstance(schedule, Mapping) and not wire.has_unknowns(schedule):
            merged = {**_SNAPSHOT_SCHEDULE_DEFAULTS, **schedule}
            for key in ("begin", "end"):
                merged[key] = _hhmm(merged[key]) or merged[key]
            inputs["schedule"] = merged
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        live = super()._from_entry(entry, known)
        live["schedule"] = {key: entry.get("schedule", {}).get(key) for key in _SNAPSHOT_SCHEDULE_DEFAULTS}
        return live

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"task_id": entry["id"]}

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["dataset", "=", props["dataset"]], ["naming_schema", "=", props["naming_schema"]]]

    def _delete_params(self, id_: int, props: Mapping[str, Any]) -> list[Any]:
        return [id_, {"fixate_removal_date": bool(props.get("fixate_removal_date"))}]

    def _update_extras(self, news: Mapping[str, Any]) -> dict[str, Any]:
        return {"fixate_removal_date": True} if news.get("fixate_removal_date") else {}


# --- cloudsync.credentials -----------------------------------------------------------------------------------------


def _normalize_endpoint(endpoint: Any) -> Any:
    """The middleware parses S3 endpoints as URLs and stores `https://host` as `https://host/`."""
    if isinstance(endpoint, str) and endpoint and not wire.has_unknowns(endpoint):
        parts = urlsplit(endpoint)
        if parts.scheme and parts.netloc and not parts.path and not parts.query:
            return f"{endpoint}/"
    return endpoint


class CloudCredentialProvider(_TrueNASProvider):
    """`cloudsync.credentials` in the 25.04 shape `{name, provider: {type, ...}}`, for B2 and S3-compatible stores.

    Changing `provider.type` replaces the credential, deleting the old one first because names are unique on the NAS.
    """

    namespace = "cloudsync.credentials"
    kind = "cloud credential"
    ui_location = "Credentials > Backup Credentials > Cloud Credentials"
    api_fields = ("name", "provider")
    output_fields = ("credential_id", "provider_type")
    delete_before_replace = True
    hints = (
        ("name", "already exists", "choose a name no other cloud credential on the NAS uses"),
        ("provider.endpoint", "", "give the S3 endpoint as a full URL (https://...) or '' for AWS"),
        ("provider", "does not match any of the expected tags", "use provider.type B2 or S3"),
        ("provider", "Field required", "fill in every required key of this provider type"),
        (
            "",
            "is used by cloud sync task",
            "delete the cloud sync tasks using this credential, or point them at another credential, first",
        ),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        name = props.get("name")
        return f"cloud credential {name!r}" if isinstance(name, str) and not wire.has_unknowns(name) else self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        name = news.get("name")
        if not wire.has_unknowns(name) and (not isinstance(name, str) or not name.strip()):
            problems.append(("name", "required: a unique, non-empty name shown in the TrueNAS UI"))
        provider = news.get("provider")
        if wire.has_unknowns(provider) and not isinstance(provider, Mapping):
            return problems
        if not isinstance(provider, Mapping):
            return [*problems, ("provider", "must be a dict like {type: 'B2', account: ..., key: ...}")]
        kind = provider.get("type")
        if wire.has_unknowns(kind):
            return problems
        shape = CREDENTIAL_SHAPES.get(kind) if isinstance(kind, str) else None
        if shape is None:
            return [
                *problems,
                (
                    "provider.type",
                    f"must be one of {', '.join(CREDENTIAL_SHAPES)} (S3 covers R2, AWS and S3-compatible stores)",
                ),
            ]
        for key in provider:
            if key != "type" and key not in shape:
                problems.append((f"provider.{key}", f"not a {kind} credential key; allowed: {', '.join(shape)}"))
        for key, default in shape.items():
            value = provider.get(key)
            if wire.has_unknowns(value):
                continue
            if default is None and (not isinstance(value, str) or not value):
                problems.append((f"provider.{key}", f"required for {kind} credentials"))
            elif default is not None and value is not None and type(value) is not type(default):
                problems.append((f"provider.{key}", f"must be a {type(default).__name__}"))
        endpoint = provider.get("endpoint")
        if isinstance(endpoint, str) and endpoint and not wire.has_unknowns(endpoint):
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(
                    ("provider.endpoint", "must be '' (AWS) or a URL like https://s3.eu-central-003.backblazeb2.com")
                )
        parts_value = provider.get("max_upload_parts")
        if wire.is_int(parts_value) and parts_value < 1:
            problems.append(("provider.max_upload_parts", "must be >= 1"))
        return problems

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        provider = inputs.get("provider")
        if isinstance(provider, Mapping) and provider.get("type") in CREDENTIAL_SHAPES:
            shape = CREDENTIAL_SHAPES[provider["type"]]
            merged = {"type": provider["type"]}
            merged.update({key: default for key, default in shape.items() if default is not None})
            merged.update(provider)
            if "endpoint" in merged:
                merged["endpoint"] = _normalize_endpoint(merged["endpoint"])
            inputs["provider"] = merged
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        provider = dict(entry.get("provider") or {})
        known_provider = known.get("provider") if isinstance(known.get("provider"), Mapping) else {}
        for key, value in provider.items():
            if value == REDACTED and key in known_provider:
                provider[key] = known_provider[key]
        return {"name": entry.get("name"), "provider": provider}

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"credential_id": entry["id"], "provider_type": (entry.get("provider") or {}).get("type")}

    def _replaces(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        old_type = (olds.get("provider") or {}).get("type")
        new_provider = news.get("provider")
        new_type = new_provider.get("type") if isinstance(new_provider, Mapping) else wire.UNKNOWN
        return ["provider"] if wire.has_unknowns(new_type) or old_type != new_type else []

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["name", "=", props["name"]]]

    def _same_object(self, entry: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        return entry.get("name") == props.get("name")


# --- cloudsync -----------------------------------------------------------------------------------------------------


class CloudSyncTaskProvider(_TrueNASProvider):
    """`cloudsync`: an rclone task copying a NAS path to a bucket, normally PUSH with client-side encryption.

    Every field can be changed by `cloudsync.update`, so nothing forces a replacement. Rotating the encryption
    password or salt in place would leave the existing remote data unreadable, so `check` refuses it unless the task
    also moves to a new bucket or folder.
    """

    namespace = "cloudsync"
    kind = "cloud sync task"
    ui_location = "Data Protection > Cloud Sync Tasks"
    api_fields = (
        "description",
        "path",
        "credentials",
        "attributes",
        "schedule",
        "direction",
        "transfer_mode",
        "encryption",
        "filename_encryption",
        "encryption_password",
        "encryption_salt",
        "snapshot",
        "bwlimit",
        "transfers",
        "pre_script",
        "post_script",
        "enabled",
    )
    local_fields = ("connection", "context", "offsite")
    local_defaults = {"offsite": False}
    output_fields = ("task_id",)
    secret_fields = ("encryption_password", "encryption_salt")
    hints = (
        ("credentials", "Invalid credentials", "create the CloudCredential first and pass its id"),
        ("path", "", "use a path inside a pool, /mnt/<pool>/<dataset>"),
        ("attributes.bucket", "", "set attributes.bucket to an existing bucket the credential can write"),
        ("attributes.folder", "", "set attributes.folder ('' for the bucket root)"),
        ("encryption_password", "", "set encryption_password (as a secret) when encryption is true"),
        ("snapshot", "", "use snapshot=true only for PUSH tasks (not MOVE) on datasets without child datasets"),
        ("schedule", "", "use cron strings {minute, hour, dom, month, dow}; dow runs 1 (Mon) to 7 (Sun)"),
        ("bwlimit", "", "list bwlimit entries in increasing 'HH:MM' order"),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        for field in ("description", "path"):
            value = props.get(field)
            if isinstance(value, str) and value and not wire.has_unknowns(value):
                return f"cloud sync task {value}"
        return self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _bool_problems(news, "encryption", "filename_encryption", "snapshot", "enabled", "offsite")
        for field in ("description", "encryption_password", "encryption_salt", "pre_script", "post_script"):
            value = news.get(field)
            if value is not None and not wire.has_unknowns(value) and not isinstance(value, str):
                problems.append((field, "must be a string"))
        path = news.get("path")
        if not wire.has_unknowns(path) and (
            not isinstance(path, str) or not re.fullmatch(r"/mnt/[^/]+(/[^/]+)*/?", path) or "/../" in f"{path}/"
        ):
            problems.append(("path", "must be a path inside a pool such as /mnt/tank/photos"))
        credentials = news.get("credentials")
        if not wire.has_unknowns(credentials) and not (
            (wire.is_int(credentials) and credentials > 0) or (isinstance(credentials, str) and credentials.isdigit())
        ):
            problems.append(("credentials", "must be the id of a cloud credential (CloudCredential.id)"))
        attributes = news.get("attributes")
        if not wire.has_unknowns(attributes) or isinstance(attributes, Mapping):
            if not isinstance(attributes, Mapping):
                problems.append(("attributes", "must be a dict with at least bucket and folder"))
            else:
                bucket, folder = attributes.get("bucket"), attributes.get("folder")
                if not wire.has_unknowns(bucket) and (not isinstance(bucket, str) or not bucket):
                    problems.append(("attributes.bucket", "required: the bucket name"))
                if not wire.has_unknowns(folder) and not isinstance(folder, str):
                    problems.append(("attributes.folder", "required: the folder inside the bucket ('' for its root)"))
        if "schedule" not in news or news["schedule"] is None:
            problems.append(("schedule", "required: {minute, hour, dom, month, dow} (TrueNAS 25.04 has no default)"))
        else:
            problems += _schedule_problems("schedule", news["schedule"], CRON_KEYS)
        direction, mode = news.get("direction"), news.get("transfer_mode")
        if not wire.has_unknowns(direction) and direction not in ("PUSH", "PULL"):
            problems.append(("direction", "must be PUSH (NAS to cloud) or PULL (cloud to NAS)"))
        if not wire.has_unknowns(mode) and mode not in ("SYNC", "COPY", "MOVE"):
            problems.append(("transfer_mode", "must be SYNC, COPY or MOVE"))
        encryption = news.get("encryption", False)
        password = news.get("encryption_password")
        if encryption is True and not wire.has_unknowns(password) and not password:
            problems.append(("encryption_password", "required when encryption is true; pass it as a secret"))
        offsite = news.get("offsite") is True and direction == "PUSH"
        if offsite and encryption is not True and not wire.has_unknowns(encryption):
            problems.append(
                (
                    "encryption",
                    "an offsite PUSH task must encrypt client-side: set encryption=true with "
                    "encryption_password and encryption_salt (secrets)",
                )
            )
        if news.get("snapshot") is True and (direction == "PULL" or mode == "MOVE"):
            problems.append(("snapshot", "only PUSH tasks that do not MOVE can sync from a temporary snapshot"))
        transfers = news.get("transfers")
        if transfers is not None and not wire.has_unknowns(transfers) and (not wire.is_int(transfers) or transfers < 1):
            problems.append(("transfers", "must be a whole number >= 1, or null for rclone's default"))
        problems += self._bwlimit_problems(news.get("bwlimit"))
        problems += self._rotation_problems(olds, news)
        return problems

    @staticmethod
    def _bwlimit_problems(bwlimit: Any) -> list[tuple[str, str]]:
        if bwlimit is None or wire.has_unknowns(bwlimit):
            return []
        if not isinstance(bwlimit, list):
            return [("bwlimit", "must be a list of {time: 'HH:MM', bandwidth: bytes/s or null}")]
        problems: list[tuple[str, str]] = []
        times: list[str] = []
        for i, item in enumerate(bwlimit):
            if not isinstance(item, Mapping) or set(item) - {"time", "bandwidth"}:
                problems.append((f"bwlimit[{i}]", "must be {time: 'HH:MM', bandwidth: bytes/s or null}"))
                continue
            at = _hhmm(item.get("time"))
            if at is None:
                problems.append((f"bwlimit[{i}].time", "must be a time of day like '08:00'"))
            else:
                times.append(at)
            bandwidth = item.get("bandwidth")
            if bandwidth is not None and (not wire.is_int(bandwidth) or bandwidth < 1):
                problems.append((f"bwlimit[{i}].bandwidth", "must be bytes per second >= 1, or null for no limit"))
        if not problems and times != sorted(set(times)):
            problems.append(("bwlimit", "entries must be in strictly increasing time order"))
        return problems

    @staticmethod
    def _rotation_problems(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        if not olds or not olds.get("encryption") or not news.get("encryption"):
            return []
        keys = ("encryption_password", "encryption_salt", "filename_encryption")
        if any(wire.has_unknowns(news.get(key)) for key in keys) or all(olds.get(key) == news.get(key) for key in keys):
            return []
        old_place = (olds.get("attributes") or {}).get("bucket"), (olds.get("attributes") or {}).get("folder")
        new_attributes = news.get("attributes") if isinstance(news.get("attributes"), Mapping) else {}
        if old_place != (new_attributes.get("bucket"), new_attributes.get("folder")):
            return []
        return [
            (
                "encryption_password",
                "changing the encryption password, salt or filename_encryption in place "
                "would make the data already in the bucket unreadable; point attributes.folder at a new folder "
                "for the re-keyed copy (and keep the old keys until it is no longer needed)",
            )
        ]

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        defaults = {
            "description": "",
            "encryption": False,
            "filename_encryption": False,
            "encryption_password": "",
            "encryption_salt": "",
            "snapshot": False,
            "bwlimit": [],
            "transfers": None,
            "pre_script": "",
            "post_script": "",
            "enabled": True,
            "offsite": False,
        }
        for field, default in defaults.items():
            if field not in inputs or (inputs[field] is None and default is not None):
                inputs[field] = default
        credentials = inputs.get("credentials")
        if isinstance(credentials, str) and credentials.isdigit():
            inputs["credentials"] = int(credentials)
        schedule = inputs.get("schedule")
        if isinstance(schedule, Mapping) and not wire.has_unknowns(schedule):
            inputs["schedule"] = {**_CLOUD_SYNC_SCHEDULE_DEFAULTS, **schedule}
        bwlimit = inputs.get("bwlimit")
        if isinstance(bwlimit, list) and not wire.has_unknowns(bwlimit):
            inputs["bwlimit"] = [
                {**item, "time": _hhmm(item.get("time")) or item.get("time"), "bandwidth": item.get("bandwidth")}
                if isinstance(item, Mapping)
                else item
                for item in bwlimit
            ]
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        live = super()._from_entry(entry, known)
        credential = entry.get("credentials")
        live["credentials"] = credential.get("id") if isinstance(credential, Mapping) else credential
        attributes = dict(entry.get("attributes") or {})
        known_attributes = known.get("attributes")
        if isinstance(known_attributes, Mapping) and known_attributes:
            # The NAS may add keys of its own (e.g. the S3 region it looked up); compare only the keys we manage.
            attributes = {key: value for key, value in attributes.items() if key in known_attributes}
        live["attributes"] = attributes
        live["schedule"] = {key: (entry.get("schedule") or {}).get(key) for key in CRON_KEYS}
        for field in self.secret_fields:
            if live.get(field) == REDACTED and field in known:
                live[field] = known[field]
        return live

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"task_id": entry["id"]}

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["path", "=", props["path"]], ["description", "=", props.get("description", "")]]

    def _same_object(self, entry: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        live = self._from_entry(entry, props)
        return all(live.get(field) == props.get(field) for field in ("credentials", "attributes", "direction"))


# --- the resources -------------------------------------------------------------------------------------------------


def _props(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _existing(
    resource: Resource,
    provider: _TrueNASProvider,
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


class _TrueNASResource(Resource):
    """Shared by the TrueNAS resources: reading an existing object by id."""

    provider_class: ClassVar[type[ResourceProvider]]
    secret_outputs: ClassVar[tuple[str, ...]]

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


class SnapshotTask(_TrueNASResource, module="truenas", name="SnapshotTask"):
    """A TrueNAS periodic snapshot task (`pool.snapshottask`); unset inputs take the API defaults."""

    provider_class = SnapshotTaskProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection",)

    task_id: pulumi.Output[int]
    """TrueNAS id of the task; import with it."""
    dataset: pulumi.Output[str]
    """ZFS dataset snapshotted, e.g. tank/photos."""
    recursive: pulumi.Output[bool]
    """Also snapshot child datasets."""
    exclude: pulumi.Output[list[str]]
    """Child datasets left out of a recursive task."""
    lifetime_value: pulumi.Output[int]
    """How many lifetime_units each snapshot is kept."""
    lifetime_unit: pulumi.Output[str]
    """HOUR, DAY, WEEK, MONTH or YEAR."""
    naming_schema: pulumi.Output[str]
    """strftime-like snapshot name, with %Y %m %d %H %M."""
    schedule: pulumi.Output[dict[str, str]]
    """Cron fields plus the begin/end window, as the NAS stores them."""
    enabled: pulumi.Output[bool]
    """Whether the task runs."""
    allow_empty: pulumi.Output[bool]
    """Take snapshots even when nothing changed."""
    connection: pulumi.Output[dict[str, Any]]
    """How the provider reached the NAS (secret)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        dataset: pulumi.Input[str],
        recursive: pulumi.Input[bool] | None = None,
        exclude: pulumi.Input[list[str]] | None = None,
        lifetime_value: pulumi.Input[int] | None = None,
        lifetime_unit: pulumi.Input[str] | None = None,
        naming_schema: pulumi.Input[str] | None = None,
        schedule: pulumi.Input[Mapping[str, str]] | None = None,
        enabled: pulumi.Input[bool] | None = None,
        allow_empty: pulumi.Input[bool] | None = None,
        fixate_removal_date: pulumi.Input[bool] | None = None,
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _props(
            connection=connection,
            dataset=dataset,
            recursive=recursive,
            exclude=exclude,
            lifetime_value=lifetime_value,
            lifetime_unit=lifetime_unit,
            naming_schema=naming_schema,
            schedule=schedule,
            enabled=enabled,
            allow_empty=allow_empty,
            fixate_removal_date=fixate_removal_date,
            context=context,
        )
        super().__init__(
            SnapshotTaskProvider(),
            resource_name,
            {**props, "task_id": None},
            wire.with_secret_outputs(opts, *self.secret_outputs),
        )



class CloudCredential(_TrueNASResource, module="truenas", name="CloudCredential"):
    """A TrueNAS cloud credential (`cloudsync.credentials`, 25.04 shape) for B2 or S3-compatible storage."""

    provider_class = CloudCredentialProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection", "provider")

    credential_id: pulumi.Output[int]
    """TrueNAS id of the credential. Wire CloudSyncTask.credentials to `.id` instead: the engine keeps a resource id
    known while previewing an update, whereas a dynamic resource's outputs become unknown."""
    name: pulumi.Output[str]
    """Unique name shown in the TrueNAS UI."""
    provider: pulumi.Output[dict[str, Any]]
    """{type: B2, account, key} or {type: S3, access_key_id, secret_access_key, endpoint, region, ...} (secret)."""
    provider_type: pulumi.Output[str]
    """B2 or S3, readable without the secret."""
    connection: pulumi.Output[dict[str, Any]]
    """How the provider reached the NAS (secret)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        name: pulumi.Input[str],
        provider: pulumi.Input[Mapping[str, Any]],
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _props(connection=connection, name=name, provider=provider, context=context)
        super().__init__(
            CloudCredentialProvider(),
            resource_name,
            {**props, "credential_id": None, "provider_type": None},
            wire.with_secret_outputs(opts, *self.secret_outputs),
        )



class CloudSyncTask(_TrueNASResource, module="truenas", name="CloudSyncTask"):
    """A TrueNAS cloud sync task (`cloudsync`); `offsite=True` makes check insist on client-side encryption."""

    provider_class = CloudSyncTaskProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection", "encryption_password", "encryption_salt", "pre_script",
                                                   "post_script")

    task_id: pulumi.Output[int]
    """TrueNAS id of the task; import with it."""
    description: pulumi.Output[str]
    """Name shown in the TrueNAS UI."""
    path: pulumi.Output[str]
    """Local path, /mnt/<pool>/..."""
    credentials: pulumi.Output[int]
    """Id of the cloud credential used."""
    attributes: pulumi.Output[dict[str, Any]]
    """bucket, folder and provider options."""
    schedule: pulumi.Output[dict[str, str]]
    """Cron fields {minute, hour, dom, month, dow}."""
    direction: pulumi.Output[str]
    """PUSH or PULL."""
    transfer_mode: pulumi.Output[str]
    """SYNC, COPY or MOVE."""
    encryption: pulumi.Output[bool]
    """rclone crypt on the remote side."""
    filename_encryption: pulumi.Output[bool]
    """Also encrypt file names."""
    encryption_password: pulumi.Output[str]
    """rclone crypt password (secret)."""
    encryption_salt: pulumi.Output[str]
    """rclone crypt salt (secret)."""
    snapshot: pulumi.Output[bool]
    """Sync from a temporary ZFS snapshot."""
    bwlimit: pulumi.Output[list[dict[str, Any]]]
    """Bandwidth schedule."""
    transfers: pulumi.Output[int | None]
    """Parallel transfers, None for rclone's default."""
    pre_script: pulumi.Output[str]
    """Script run before the sync."""
    post_script: pulumi.Output[str]
    """Script run after a successful sync."""
    enabled: pulumi.Output[bool]
    """Whether the task runs."""
    offsite: pulumi.Output[bool]
    """Whether the destination is offsite (not sent to the NAS)."""
    connection: pulumi.Output[dict[str, Any]]
    """How the provider reached the NAS (secret)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        path: pulumi.Input[str],
        credentials: pulumi.Input[int | str],
        attributes: pulumi.Input[Mapping[str, Any]],
        schedule: pulumi.Input[Mapping[str, str]],
        direction: pulumi.Input[str],
        transfer_mode: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        encryption: pulumi.Input[bool] | None = None,
        filename_encryption: pulumi.Input[bool] | None = None,
        encryption_password: pulumi.Input[str] | None = None,
        encryption_salt: pulumi.Input[str] | None = None,
        snapshot: pulumi.Input[bool] | None = None,
        bwlimit: pulumi.Input[list[Mapping[str, Any]]] | None = None,
        transfers: pulumi.Input[int] | None = None,
        pre_script: pulumi.Input[str] | None = None,
        post_script: pulumi.Input[str] | None = None,
        enabled: pulumi.Input[bool] | None = None,
        offsite: pulumi.Input[bool] | None = None,
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _props(
            connection=connection,
            path=path,
            credentials=credentials,
            attributes=attributes,
            schedule=schedule,
            direction=direction,
            transfer_mode=transfer_mode,
            description=description,
            encryption=encryption,
            filename_encryption=filename_encryption,
            encryption_password=encryption_password,
            encryption_salt=encryption_salt,
            snapshot=snapshot,
            bwlimit=bwlimit,
            transfers=transfers,
            pre_script=pre_script,
            post_script=post_script,
            enabled=enabled,
            offsite=offsite,
            context=context,
        )
        super().__init__(
            CloudSyncTaskProvider(),
            resource_name,
            {**props, "task_id": None},
            wire.with_secret_outputs(opts, *self.secret_outputs),
        )

