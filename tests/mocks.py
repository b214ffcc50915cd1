"""The one set of Pulumi mocks every test under mocks uses: services that answer like the real ones, and a monitor
that records what the program registered and read.

Tests assert on what the monitor recorded (types, names, parents, inputs, secret outputs), never on private
attributes. The `mocked` fixture in tests/conftest.py installs them for one test, once for `up` and once for
preview; `run_estate` (tests/components/harness.py) installs them for a whole stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

R2_GROUPS = [
    {"id": "f" * 32, "name": "Workers R2 Storage Bucket Item Read"},
    {"id": "e" * 32, "name": "Workers R2 Storage Bucket Item Write"},
    {"id": "d" * 32, "name": "Account Settings Write"},
]
"""Cloudflare's permission groups, as the lookup the R2 component makes answers them."""

COMPUTED: dict[str, dict[str, Any]] = {
    "pulumi-python:dynamic/truenas:SnapshotTask": {"task_id": 7},
    "pulumi-python:dynamic/truenas:CloudCredential": {"credential_id": 3, "provider_type": "B2"},
    "pulumi-python:dynamic/truenas:CloudSyncTask": {"task_id": 8},
}
"""Outputs the NAS computes for each TrueNAS resource, the same for every instance."""


class ServiceMocks(pulumi.runtime.Mocks):
    """Echo inputs as state and add the outputs real services generate (ids, keys, NAS task ids).

    A read (`Resource.get`) keeps the id it was given; a create gets `<name>-id`. Every request is kept in `created`.
    """

    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(args)
        state = {**args.inputs, **COMPUTED.get(args.typ, {})}
        typ, name = args.typ, args.name
        if typ.endswith("b2:Bucket"):
            state |= {"bucket_id": f"id-{name}", "bucket_name": args.inputs.get("bucket_name")}
        elif typ.endswith("b2:ApplicationKey"):
            state |= {"application_key_id": f"keyid-{name}", "application_key": f"SECRET-b2-{name}"}
        elif typ == "cloudflare:index/apiToken:ApiToken":
            state |= {"value": f"SECRET-r2-{name}"}
        elif typ == "aws:iam/accessKey:AccessKey":
            state |= {"secret": f"SECRET-aws-{name}"}
        elif typ.endswith("secrets:GeneratedSecret"):
            state |= {"value": f"SECRET-generated-{name}"}
        elif typ.endswith("minio:User"):
            user = args.inputs.get("user_name")
            state |= {"access_key_id": user, "secret_access_key": f"SECRET-minio-{name}",
                      "policy_name": f"{user}-policy", "status": "enabled"}
        elif typ.endswith(("wasabi:User", "rgw:User")):
            state |= {"access_key_id": f"AK-{name}", "secret_access_key": f"SECRET-{typ.rsplit(':', 1)[0]}-{name}"}
        elif typ.endswith("garage:Key"):
            state |= {"access_key_id": f"GK-{name}", "secret_access_key": f"SECRET-garage-{name}"}
        return args.resource_id or f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if "PermissionGroups" in args.token:
            return {"results": R2_GROUPS, "account_id": args.args.get("account_id")}
        return {}


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping each registration and read request (the Stack left out) with its URN."""

    def __init__(self, mocks: pulumi.runtime.Mocks | None = None) -> None:
        super().__init__(mocks or ServiceMocks())
        self.requests: list[tuple[Any, str]] = []
        self.reads: list[tuple[Any, str]] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.requests.append((request, response.urn))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)
        self.reads.append((request, response.urn))
        return response

    def registered(self) -> dict[str, Any]:
        """Registration requests by resource name."""
        return {request.name: request for request, _ in self.requests}

    def read(self) -> dict[str, Any]:
        """Read requests (`Resource.get`) by resource name."""
        return {request.name: request for request, _ in self.reads}


@contextmanager
def installed(preview: bool, mocks: pulumi.runtime.Mocks | None = None) -> Iterator[RecordingMonitor]:
    """The mocks and a recording monitor for one test; the runtime settings and event loop are restored after."""
    saved = {name: getattr(settings.SETTINGS, name) for name in ("monitor", "engine", "dry_run", "project", "stack")}
    saved_root = settings.get_root_resource()
    try:
        previous: asyncio.AbstractEventLoop | None = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(monitor.mocks, preview=preview, monitor=monitor)
    try:
        yield monitor
    finally:
        for name, value in saved.items():
            setattr(settings.SETTINGS, name, value)
        settings.ROOT.set(saved_root)
        asyncio.set_event_loop(previous)
        loop.close()
