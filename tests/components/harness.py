"""Run the program's composition under Pulumi mocks and hand back what was registered.

The mocks (tests/mocks.py) answer like the services would (ids, generated keys, permission-group lookups);
assertions are made on registered types, names, parents and inputs, never on private attributes.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc

from tests.mocks import RecordingMonitor, ServiceMocks

ROOT = Path(__file__).resolve().parents[2]


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


BASE_ESTATE_ENV = {"HLB_B2_KEY_ID": "id", "HLB_B2_KEY": "SECRET-b2", "HLB_TRUENAS_API_KEY": "SECRET-nas"}
"""The admin credentials the base estate (the `estate` fixture) needs, as a pipeline would export them."""
PROD_ENV = {
    "HLB_B2_KEY_ID": "prod-b2-admin-id", "HLB_B2_KEY": "SECRET-b2-admin",
    "HLB_STORJ_ACCESS_KEY_ID": "storj-id", "HLB_STORJ_SECRET_ACCESS_KEY": "SECRET-storj",
    "HLB_TRUENAS_API_KEY": "SECRET-truenas-api-key",
    "HLB_NAS_S3_ACCESS_KEY_ID": "nas-s3-id", "HLB_NAS_S3_SECRET_ACCESS_KEY": "SECRET-nas-s3",
    "HLB_HEALTHCHECKS_PING_KEY": "SECRET-hc-ping-key",
}
"""The credentials Pulumi.prod.yaml needs, as a pipeline would export them."""


def inventory_config(sections: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    """An inventory as the engine passes stack config to the program: each section as JSON under the project."""
    return {f"homelab-backups:{key}": json.dumps(value) for key, value in sections.items()} | (extra or {})


def stack_config(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml's config, serialised as the engine passes it to the program."""
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def stack_plan(stack: str) -> Any:
    """The plan of Pulumi.<stack>.yaml's inventory, compiled as the program would (no resources registered)."""
    from plan import build_plan
    from stack.config import load_stack_inventory

    pulumi.runtime.set_all_config(stack_config(stack))
    try:
        return build_plan(load_stack_inventory())
    finally:
        pulumi.runtime.set_all_config({})


def identity_env_for(inventory: Any) -> dict[str, str]:
    """Stand-in keys (distinct from every admin key) for each writer of an inventory whose keys the user supplies:
    what a user would create on a server the program cannot create keys on."""
    from plan import build_plan
    from plan.capabilities import identities_of
    from stack.naming import ROLES, identity_env

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
    from stack.config import load_stack_inventory

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
    from components.estate import build_estate
    from plan import build_plan
    from runbook.contract import runbook_contract
    from stack.config import load_stack_inventory
    from stack.credentials import require_credentials

    mocks = ServiceMocks()
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
                                ("secrets", estate.secrets()), ("cluster_plugins", estate.cluster_plugins)):
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


def stack_run(stack: str, preview: bool = False) -> tuple[list[Registered], dict[str, Any]]:
    """`run_estate` of an example stack (Pulumi.<stack>.yaml, "prod" or "pve") with its credentials, once per
    process: the component, runbook and contract suites read the same run (each run of prod is about 1.4 s of CPU).
    Shared: read it, never change it."""
    return _stack_run(stack, bool(preview))


@functools.cache
def _stack_run(stack: str, preview: bool) -> tuple[list[Registered], dict[str, Any]]:
    """The cache behind `stack_run`, keyed positionally: `functools.cache` keys on the call as written, so
    `stack_run("prod")` and `stack_run("prod", preview=False)` would otherwise be two runs."""
    from tests.proxmox_estate import PVE_ENV

    return run_estate(stack, preview=preview, env={"prod": PROD_ENV, "pve": PVE_ENV}[stack])


PING_KEY = PROD_ENV["HLB_HEALTHCHECKS_PING_KEY"]
SECRET_SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
"""How the engine marks a secret value on the wire (pulumi.runtime.rpc)."""


def of_type(registered: list[Registered], suffix: str) -> list[Registered]:
    """The registrations whose type ends with `suffix`."""
    return [r for r in registered if r.typ.endswith(suffix)]


def unit_components(registered: list[Registered], suffix: str, kind: str) -> list[tuple[Any, Registered]]:
    """(unit, its component) for every prod unit of source `kind`; asserts one component of type `suffix` per unit
    and none beside them."""
    components = {r.name: r for r in of_type(registered, suffix)}
    units = [u for u in stack_plan("prod").units if u.kind == kind]
    assert units and set(components) == {u.dataset for u in units}, sorted(components)
    return [(unit, components[unit.dataset]) for unit in units]


def children(registered: list[Registered], component: Registered, suffix: str) -> list[Registered]:
    """What `component` registered directly, of the types ending with `suffix`."""
    return [r for r in registered if r.parent == component.urn and r.typ.endswith(suffix)]
