"""Run the program's composition under Pulumi mocks and hand back what was registered.

The mocks answer like the services would (ids, generated keys, permission-group lookups); assertions
are made on registered types, names, parents and inputs, never on private attributes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

ROOT = Path(__file__).resolve().parents[2]

R2_GROUPS = [
    {"id": "f" * 32, "name": "Workers R2 Storage Bucket Item Read"},
    {"id": "e" * 32, "name": "Workers R2 Storage Bucket Item Write"},
    {"id": "d" * 32, "name": "Account Settings Write"},
]


class EstateMocks(pulumi.runtime.Mocks):
    """Echo inputs as state and add the outputs real providers generate."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        typ = args.typ
        if typ.endswith("b2:Bucket"):
            state |= {"bucket_id": f"id-{args.name}", "bucket_name": args.inputs.get("bucket_name")}
        elif typ.endswith("b2:ApplicationKey"):
            state |= {"application_key_id": f"keyid-{args.name}", "application_key": f"SECRET-b2-{args.name}"}
        elif typ == "cloudflare:index/apiToken:ApiToken":
            state |= {"value": f"SECRET-r2-{args.name}"}
        elif typ == "aws:iam/accessKey:AccessKey":
            state |= {"secret": f"SECRET-aws-{args.name}"}
        elif typ.endswith("secrets:GeneratedSecret"):
            state |= {"value": f"SECRET-generated-{args.name}"}
        elif typ.endswith("s3compatible:Bucket"):
            state |= {"bucket": args.inputs.get("bucket")}
        elif typ.endswith("minio:User"):
            state |= {"access_key_id": args.inputs.get("user_name"), "secret_access_key": f"SECRET-minio-{args.name}",
                      "policy_name": f"{args.inputs.get('user_name')}-policy", "status": "enabled"}
        elif typ.endswith(("wasabi:User", "rgw:User")):
            state |= {"access_key_id": f"AK-{args.name}", "secret_access_key": f"SECRET-{typ.rsplit(':', 1)[0]}-"
                                                                                 f"{args.name}"}
        elif typ.endswith("garage:Key"):
            state |= {"access_key_id": f"GK-{args.name}", "secret_access_key": f"SECRET-garage-{args.name}"}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if "PermissionGroups" in args.token:
            return {"results": R2_GROUPS, "account_id": args.args.get("account_id")}
        return {}


@dataclass(frozen=True)
class Registered:
    """One resource the program registered, as the engine would see it."""

    urn: str
    typ: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    protect: bool
    custom: bool
    secret_outputs: tuple[str, ...]
    state: dict[str, Any]


class RecordingMonitor(MockMonitor):
    """A mock monitor that also keeps each request's type, parent, options and inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.requests.append((request, response.urn))
        return response


def stack_config(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml's config, serialised as the engine passes it to the program."""
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def identity_env_for(inventory: Any) -> dict[str, str]:
    """Stand-in keys (distinct from every admin key) for each writer of an inventory whose keys the user supplies:
    what a user would create on a server the program cannot create keys on."""
    from components.stack_config import ROLES, identity_env
    from plan import build_plan
    from plan.capabilities import identities_of

    env = {}
    for bucket in build_plan(inventory).buckets:
        if identities_of(bucket.kind, bucket.flavour, bucket.admin_api) != "supplied":
            continue
        for writer in bucket.writers:
            for role in ROLES:
                env[identity_env(bucket.destination, role, writer.key, "access_key_id")] = \
                    f"{role}-{bucket.destination}-{writer.key}-id"
                env[identity_env(bucket.destination, role, writer.key, "secret_access_key")] = \
                    f"SECRET-{role}-{bucket.destination}-{writer.key}"
    return env


def supplied_identity_env() -> dict[str, str]:
    """`identity_env_for` the inventory of the config currently set ({} when it is invalid: the program says why)."""
    from components.stack_config import load_stack_inventory

    try:
        return identity_env_for(load_stack_inventory())
    except pulumi.RunError:
        return {}


def run_estate(stack: str, preview: bool = False, config: dict[str, str] | None = None,
               env: dict[str, str] | None = None, supply_identities: bool = True,
               monitor: RecordingMonitor | None = None) -> tuple[list[Registered], dict[str, Any]]:
    """Build the estate of a stack under mocks; return registrations and the exported runbook.

    With `supply_identities`, writers of destinations whose keys the user supplies get stand-in keys (any value
    works under mocks), unless `env` already names them. Pass `monitor` to inspect what was registered when the
    program raises."""
    from components.credentials import require_credentials
    from components.estate import build_estate
    from components.stack_config import load_stack_inventory
    from plan import build_plan
    from runbook.contract import runbook_contract

    mocks = EstateMocks()
    monitor = monitor or RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="homelab-backups", stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config if config is not None else stack_config(stack))
    env = {**(supplied_identity_env() if supply_identities else {}), **(env or {})}
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    exported: dict[str, Any] = {}
    try:
        @pulumi.runtime.test
        def program():
            inventory = load_stack_inventory()
            plan = build_plan(inventory)
            require_credentials(inventory, plan)
            estate = build_estate(inventory, plan)
            exported["runbook"] = runbook_contract(inventory, plan)
            exported["estate"] = estate

            def keep(role: str, creds: dict) -> None:
                exported[role] = creds

            for role, creds in (("credentials", estate.credentials), ("reader_credentials", estate.reader_credentials),
                                ("secrets", estate.secrets())):
                pulumi.Output.from_input(creds).apply(lambda v, role=role: keep(role, v))
            return pulumi.Output.all(*[b.bucket for b in estate.buckets.values()])

        program()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        pulumi.runtime.set_all_config({})
    registered = []
    for request, urn in monitor.requests:
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        state = monitor.resources[urn].state if urn in monitor.resources else {}
        registered.append(Registered(urn, request.type, request.name, request.parent or None, dict(inputs),
                                     request.protect, request.custom, tuple(request.additionalSecretOutputs),
                                     dict(state or {})))
    return registered, exported
