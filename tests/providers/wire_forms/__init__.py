"""Check and Diff requests captured from real previews, per engine scenario (`<scenario>.json` here).

The engine scenarios (tests/engine) record every request their dynamic providers receive
(tests/engine/wire_capture) and compare the *forms* with the file here: which property holds an unknown, a secret
envelope, a string, a number... (values are not compared: ports and paths change per run). Set
HLB_UPDATE_WIRE_FORMS=1 to rewrite the files from a run instead. The provider tests replay the stored requests
through the dynamic-provider host's own deserializer (`news`, `olds` below).

Stored requests keep the wire's JSON form (protobuf Struct JSON) with secrets replaced by placeholders, one request
per distinct form.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

HERE = Path(__file__).resolve().parent
UPDATE_ENV = "HLB_UPDATE_WIRE_FORMS"
SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
SECRET_KEYS = frozenset({"api_key", "access_key_id", "secret_access_key", "account", "key", "key_id",
                         "encryption_password", "encryption_salt", "application_key", "value", "access_key",
                         "secret_key", "password", "token_secret"})
"""Properties whose string values are credentials or generated secrets (a GeneratedSecret's `value`, which the
engine sends in plain text in `diff`'s olds): stored as placeholders, never as captured."""


def resource_type(urn: str) -> str:
    """`pulumi-python:dynamic/truenas:CloudSyncTask` from a URN (the last type of its parent chain)."""
    return urn.split("::")[2].split("$")[-1]


def form(value: Any) -> Any:
    """The shape of a wire value: leaves become their kind, unknowns `unknown`, secret envelopes `{secret: ...}`."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return {"secret": form(value.get("value"))}
        return {key: form(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [form(item) for item in value]
    if value == rpc.UNKNOWN:
        return "unknown"
    return type(value).__name__


def _scrub(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return {**value, "value": _scrub(value.get("value"), key)}
        return {k: _scrub(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, key) for item in value]
    if isinstance(value, str) and value != rpc.UNKNOWN:
        if key in SECRET_KEYS:
            return f"placeholder-{key.replace('_', '-')}"
        if key == "ca_file":
            return "/etc/ssl/nas-ca.pem"
    return value


def _signature(record: Mapping[str, Any]) -> str:
    shape = {k: record[k] for k in ("type", "method", "step")} | {
        "olds": form(record["olds"]), "news": form(record["news"])}
    return json.dumps(shape, sort_keys=True)


def records_from_capture(path: Path, step_of: Mapping[int, str]) -> list[dict[str, Any]]:
    """One record per distinct (type, method, step, form) from a capture file; `step_of` maps a line index
    (the first line of each step) to the step's name."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    records: dict[str, dict[str, Any]] = {}
    step = ""
    for index, line in enumerate(lines):
        step = step_of.get(index, step)
        raw = json.loads(line)
        record = {"type": resource_type(raw["urn"]), "method": raw["method"], "step": step,
                  "name": raw["urn"].rsplit("::", 1)[-1], "id": raw.get("id"),
                  "olds": _scrub(raw["olds"]), "news": _scrub(raw["news"])}
        records.setdefault(_signature(record), record)
    return [records[key] for key in sorted(records)]


def rescrub(scenario: str) -> None:
    """Apply the current placeholders to a stored file (after SECRET_KEYS grows)."""
    records = [{**r, "olds": _scrub(r["olds"]), "news": _scrub(r["news"])} for r in stored(scenario)]
    (HERE / f"{scenario}.json").write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")


def stored(scenario: str) -> list[dict[str, Any]]:
    """The records kept for one scenario."""
    return json.loads((HERE / f"{scenario}.json").read_text(encoding="utf-8"))


def every_record() -> list[dict[str, Any]]:
    """Every stored record of every scenario, each with its scenario."""
    return [{**r, "scenario": p.stem} for p in sorted(HERE.glob("*.json")) for r in stored(p.stem)]


def signatures(records: Iterable[Mapping[str, Any]]) -> set[str]:
    return {_signature(r) for r in records}


def keep_or_compare(scenario: str, captured: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """With HLB_UPDATE_WIRE_FORMS=1, store `captured`; otherwise return (forms only captured, forms only stored)."""
    if os.environ.get(UPDATE_ENV) == "1":
        (HERE / f"{scenario}.json").write_text(json.dumps(captured, indent=1, sort_keys=True) + "\n")
    live, kept = signatures(captured), signatures(stored(scenario))
    return live - kept, kept - live


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def news(record: Mapping[str, Any]) -> dict[str, Any]:
    """The request's `news` exactly as the dynamic-provider host hands them to check/diff."""
    return rpc.deserialize_properties(_struct(record["news"]), True)


def olds(record: Mapping[str, Any]) -> dict[str, Any]:
    """The request's `olds` exactly as the dynamic-provider host hands them to check/diff."""
    return rpc.deserialize_properties(_struct(record["olds"]), True)


def of_type(name: str, method: str | None = None) -> list[dict[str, Any]]:
    """Stored records for one resource type (`truenas:CloudSyncTask`), optionally one method, across scenarios."""
    token = f"pulumi-python:dynamic/{name}"
    return [r for r in every_record() if r["type"] == token and method in (None, r["method"])]


def record_id(record: Mapping[str, Any]) -> str:
    """A readable pytest id: scenario, step, method, resource name."""
    return f"{record['scenario']}:{record['step']}:{record['method']}:{record['name']}"


def has_unknowns(props: Mapping[str, Any]) -> bool:
    """Whether a stored request carries a value the engine did not know yet."""
    return "unknown" in json.dumps(form(props))


STAND_IN_CREDENTIAL = {"key_id": "k", "key": "s", "access_key_id": "k", "secret_access_key": "s",
                       "admin_token": "t", "token_secret": "t"}
"""Whatever fields a provider reads from a credential entry: the captured runs had real (loopback) keys."""


def configure(provider: Any, props: Mapping[str, Any]) -> None:
    """Configure a provider as the engine did in the captured run: the stack's credentials hold the entry the
    resource names (`credentials_entry`), so a replayed `check` finds its admin key."""
    from pulumi.dynamic import Config, ConfigureRequest

    entry = props.get("credentials_entry")
    if isinstance(entry, str) and hasattr(provider, "configure"):
        stack = {"homelab-backups:credentials": json.dumps({entry: STAND_IN_CREDENTIAL})}
        provider.configure(ConfigureRequest(config=Config(raw_config=stack, project_name="homelab-backups")))


def check(provider: Any, record: Mapping[str, Any]) -> Any:
    """`provider.check` on a stored request, as the host calls it; the checked inputs must survive the host's
    serialization back to the engine (unknowns included)."""
    import asyncio

    configure(provider, news(record))
    result = provider.check(olds(record), {"__provider": "<serialized provider>", **news(record)})
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(rpc.serialize_properties(dict(result.inputs), {}))
    finally:
        loop.close()
    return result


def diff(provider: Any, record: Mapping[str, Any]) -> Any:
    """`provider.diff` on a stored request, as the host calls it."""
    return provider.diff(record["id"], olds(record), news(record))


NO_CHANGE_STEPS = ("preview-again", "up-again")
"""Steps that must report no changes: what `diff` said there must be `changes=False`."""
