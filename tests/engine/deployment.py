"""Deployments in `pulumi stack export` (version 3) form, for `pulumi policy analyze --file`.

Two sources: a mocked run of the program (the harness's registrations, plus the outputs components register,
which the harness does not keep), and hand-built resource lists for scenario programs that bypass the program's
own validation. Custom resources get a provider reference, as the engine's snapshot checks require; secrets are
written as `plaintext` envelopes, which the engine reads without a secrets provider and hands to the pack as secrets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from tests.components import harness

PROJECT = "homelab-backups"
SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
STACK_TYPE = "pulumi:pulumi:Stack"
ENV = {"HLB_B2_KEY_ID": "x", "HLB_B2_KEY": "y", "HLB_STORJ_ACCESS_KEY_ID": "a", "HLB_STORJ_SECRET_ACCESS_KEY": "b",
       "HLB_LOCAL_S3_ACCESS_KEY_ID": "a", "HLB_LOCAL_S3_SECRET_ACCESS_KEY": "b", "HLB_TRUENAS_API_KEY": "1-key",
       "HLB_NAS_S3_ACCESS_KEY_ID": "a", "HLB_NAS_S3_SECRET_ACCESS_KEY": "b", "HLB_HEALTHCHECKS_PING_KEY": "ping-key"}
"""Credentials the program reads from the environment; any value works under mocks."""


def secret(value: Any) -> dict[str, Any]:
    """A secret as a state file holds it when exported with --show-secrets."""
    return {SECRET_KEY: SECRET_SIG, "plaintext": json.dumps(value)}


def _is_envelope(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_KEY) == SECRET_SIG


def _state_value(value: Any) -> Any:
    """SDK values (secret envelopes with `value`) as state-file values (envelopes with `plaintext`)."""
    if _is_envelope(value):
        return secret(_plain(value))
    if isinstance(value, Mapping):
        return {k: _state_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_state_value(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """The value inside secret envelopes of either form (the SDK's `value`, the state file's `plaintext`)."""
    if _is_envelope(value):
        return _plain(json.loads(value["plaintext"]) if "plaintext" in value else value.get("value"))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass
class Res:
    """One resource of a deployment: enough to place it in the tree and give the engine its inputs and outputs."""

    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    parent: Res | None = None
    custom: bool = True
    outputs: dict[str, Any] | None = None
    """Defaults to the inputs for custom resources and to nothing for components (as the engine keeps them)."""
    secret_outputs: tuple[str, ...] = ()
    provider: str | None = None
    """Provider reference `urn::id`; defaults to the package's default provider."""

    def qualified_type(self) -> str:
        """The type chain of the URN: ancestors' types (the root stack excluded), then this one's."""
        chain = [self.type]
        parent = self.parent
        while parent is not None and parent.type != STACK_TYPE:
            chain.append(parent.type)
            parent = parent.parent
        return "$".join(reversed(chain))

    def urn(self, stack: str) -> str:
        """The URN the engine gives this resource in `stack`."""
        if self.type == STACK_TYPE:
            return f"urn:pulumi:{stack}::{PROJECT}::{STACK_TYPE}::{self.name}"
        return f"urn:pulumi:{stack}::{PROJECT}::{self.qualified_type()}::{self.name}"


def _package(resource_type: str) -> str:
    return "pulumi-python" if resource_type.startswith("pulumi-python:") else resource_type.split(":", 1)[0]


def _entry(urn: str, resource_type: str, custom: bool, inputs: dict[str, Any], outputs: dict[str, Any],
           parent: str | None, provider: str | None, secret_outputs: Iterable[str]) -> dict[str, Any]:
    secret_names = set(secret_outputs) | {k for k, v in inputs.items() if _is_envelope(v)}
    state_outputs = {k: secret(_plain(v)) if k in secret_names else _state_value(v) for k, v in outputs.items()}
    entry: dict[str, Any] = {"urn": urn, "custom": custom, "type": resource_type,
                             "inputs": _state_value(inputs), "outputs": state_outputs}
    if custom:
        entry["id"] = urn.rsplit("::", 1)[-1] + "-id"
    if parent:
        entry["parent"] = parent
    if provider:
        entry["provider"] = provider
    if secret_outputs:
        entry["additionalSecretOutputs"] = sorted(secret_outputs)
    return entry


def _wrap(stack: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Root stack and default providers first, then the resources, in a v3 deployment."""
    root = f"urn:pulumi:{stack}::{PROJECT}::{STACK_TYPE}::{PROJECT}-{stack}"
    packages = sorted({_package(e["type"]) for e in entries if e["custom"] and not e["type"].startswith("pulumi:")})
    providers = [{"urn": f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{p}::default", "custom": True,
                  "id": "default-id", "type": f"pulumi:providers:{p}", "inputs": {}, "outputs": {}} for p in packages]
    for entry in entries:
        if entry["custom"] and not entry["type"].startswith("pulumi:") and "provider" not in entry:
            entry["provider"] = f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{_package(entry['type'])}::default" \
                                "::default-id"
        entry.setdefault("parent", root)
    resources = [{"urn": root, "custom": False, "type": STACK_TYPE, "inputs": {}, "outputs": {}}, *providers, *entries]
    return {"version": 3, "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3.260.0"}, "resources": resources}}


def from_resources(stack: str, resources: Iterable[Res]) -> dict[str, Any]:
    """A deployment of hand-built resources (parents before children)."""
    entries = []
    for r in resources:
        outputs = r.outputs if r.outputs is not None else (r.inputs if r.custom else {})
        parent = r.parent.urn(stack) if r.parent is not None else None
        entries.append(_entry(r.urn(stack), r.type, r.custom, r.inputs, outputs, parent, r.provider, r.secret_outputs))
    return _wrap(stack, entries)


class _OutputsMonitor(harness.RecordingMonitor):
    """The harness's monitor, plus two things the engine does: it keeps what components register as outputs, and it
    returns `additional_secret_outputs` as secrets (so values the program derives from them are secrets too)."""

    last: _OutputsMonitor | None = None

    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.outputs: dict[str, dict[str, Any]] = {}
        _OutputsMonitor.last = self

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """Register as the mock does, then wrap the additional secret outputs in secret envelopes."""
        response = super().RegisterResource(request)
        for name in request.additionalSecretOutputs:
            if name in response.object.fields:
                envelope = struct_pb2.Struct()
                envelope.fields[SECRET_KEY].string_value = SECRET_SIG
                envelope.fields["value"].CopyFrom(response.object.fields[name])
                response.object.fields[name].struct_value.CopyFrom(envelope)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """Keep a component's registered outputs: the engine stores them as its state."""
        self.outputs[request.urn] = dict(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        return super().RegisterResourceOutputs(request)


def _engine_urn(urn: str | None) -> str | None:
    """The engine leaves the root stack out of its children's type chain; the mock monitor keeps it."""
    return urn.replace(f"::{STACK_TYPE}$", "::") if urn else urn


def from_program(stack: str, env: Mapping[str, str] | None = None,
                 config: dict[str, str] | None = None) -> dict[str, Any]:
    """The deployment a successful `pulumi up` of `stack` would leave, from a mocked run of the program
    (with `config` instead of Pulumi.<stack>.yaml when given)."""
    with mock.patch.object(harness, "RecordingMonitor", _OutputsMonitor):
        registered, _ = harness.run_estate(stack, config=config, env=dict(env if env is not None else ENV))
    monitor = _OutputsMonitor.last
    assert monitor is not None
    kubernetes_providers = {r.name: _engine_urn(r.urn) for r in registered if r.typ == "pulumi:providers:kubernetes"}
    entries = []
    for r in registered:
        provider = None
        if r.typ.startswith("kubernetes:"):
            namespace = _plain(r.inputs).get("metadata", {}).get("namespace")
            for prefix in ("render-", "cluster-"):
                if f"{prefix}{namespace}" in kubernetes_providers:
                    provider = f"{kubernetes_providers[prefix + str(namespace)]}::{prefix}{namespace}-id"
        outputs = dict(r.state) if r.custom else monitor.outputs.get(r.urn, {})
        entries.append(_entry(str(_engine_urn(r.urn)), r.typ, r.custom, dict(r.inputs), outputs, _engine_urn(r.parent),
                              provider, r.secret_outputs))
    return _wrap(stack, entries)


def write(path: Any, deployment: Mapping[str, Any]) -> None:
    """Write a deployment where `pulumi policy analyze --file` reads it."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(deployment, handle, indent=1, sort_keys=True)
