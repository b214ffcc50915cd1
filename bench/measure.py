"""One measurement per process (clean imports, honest peak memory); prints one JSON line.

  python -m bench.measure program N           the program's composition under mocks, N datasets
                                              (HLB_BENCH_INVENTORY=FILE: that inventory, JSON, instead)
  python -m bench.measure record N FILE       the same run, saving every registration to FILE
  python -m bench.measure baseline FILE       the bare SDK registering exactly those resources
  python -m bench.measure baseline-flat FILE  the same through the SDK's base classes (the floor before 2026-11-30)
  python -m bench.measure compare FILE [flat] where that floor's registrations differ from the recorded program's
  python -m bench.measure imports program|pulumi
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import sys
import time
from typing import Any

from stack.runtime import tune_for_large_graphs


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _install_mocks(record: list | None = None):
    import pulumi
    from pulumi.runtime.mocks import MockMonitor

    class Monitor(MockMonitor):
        def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
            response = super().RegisterResource(request)
            if record is not None and request.type != "pulumi:pulumi:Stack":
                record.append(request)
            return response

    from tests.mocks import ServiceMocks  # the same mocks the component tests trust

    mocks = ServiceMocks()
    pulumi.runtime.set_mocks(mocks, project="homelab-backups", stack="bench", preview=False, monitor=Monitor(mocks))


def _credentials_env() -> None:
    """The same stand-in credentials the mocked engine deployments use (any value works under mocks)."""
    from tests.engine.deployment import ENV

    os.environ.update(ENV)


def run_program(datasets: int, record: list | None = None, tuned: bool = True) -> tuple[float, float]:
    """Wall and CPU seconds to load, plan and build the estate of a synthetic inventory under mocks."""
    import pulumi

    from bench.inventory_gen import synthetic_inventory

    _credentials_env()
    _install_mocks(record)
    inventory_file = os.environ.get("HLB_BENCH_INVENTORY")
    if inventory_file:
        with open(inventory_file) as source:
            raw = json.load(source)
    else:
        raw = synthetic_inventory(datasets, s3_endpoint=os.environ.get("HLB_BENCH_S3_ENDPOINT"))
    pulumi.runtime.set_all_config({f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()})
    from components.estate import build_estate
    from plan import build_plan
    from runbook.contract import runbook_contract
    from stack.config import load_stack_inventory
    from stack.credentials import require_credentials
    from tests.components.harness import supplied_identity_env

    os.environ.update(supplied_identity_env())  # keys a user supplies per writer (storj); read before the clock
    if tuned:
        tune_for_large_graphs()
    started, cpu = time.perf_counter(), time.process_time()

    @pulumi.runtime.test
    def program():  # what __main__.py does, line for line
        inventory = load_stack_inventory()
        plan = build_plan(inventory)
        require_credentials(inventory, plan)
        estate = build_estate(inventory, plan)
        pulumi.export("runbook", runbook_contract(inventory, plan))
        pulumi.export("secrets", pulumi.Output.secret(estate.secrets()))
        pulumi.export("credentials", pulumi.Output.secret(estate.credentials))
        pulumi.export("reader_credentials", pulumi.Output.secret(estate.reader_credentials))
        pulumi.export("cnpg_cluster_plugins", estate.cluster_plugins)

    program()
    return time.perf_counter() - started, time.process_time() - cpu


SDK_PACKAGES = {"kubernetes:": "pulumi_kubernetes", "cloudflare:": "pulumi_cloudflare", "aws:": "pulumi_aws"}


def _plain(value: Any) -> Any:
    """Registered inputs as JSON (the baseline re-registers the same payload)."""
    return json.loads(json.dumps(value, default=str))


def record_program(datasets: int, path: str, tuned: bool = True) -> tuple[float, float]:
    requests: list = []
    seconds = run_program(datasets, requests, tuned)
    with open(path, "w") as out:
        json.dump(_rows(requests), out)
    return seconds


def _rows(requests: list) -> list[dict]:
    """Registration requests as the recording stores them."""
    from pulumi.runtime import rpc

    return [{"type": request.type, "name": request.name, "parent": request.parent, "custom": request.custom,
             "provider": request.provider.split("::")[-2] if request.provider else "",
             "inputs": _plain(rpc.deserialize_properties(request.object, keep_unknowns=True))}
            for request in requests]


def replay_differences(path: str, flat: bool = False) -> list[str]:
    """Where the floor's registrations differ from the recorded program's (type, name, parent, provider, inputs)."""
    with open(path) as source:
        recorded = json.load(source)
    requests: list = []
    run_baseline(path, flat=flat, record=requests)
    replayed = {(row["type"], row["name"]): row for row in _rows(requests)}
    differences = []
    for row in recorded:
        again = replayed.pop((row["type"], row["name"]), None)
        if again is None:
            differences.append(f"{row['type']}::{row['name']}: not replayed")
            continue
        differences += [f"{row['type']}::{row['name']}: {key} {row[key]!r} replayed as {again[key]!r}"
                        for key in ("parent", "custom", "provider", "inputs") if row[key] != again[key]]
    return differences + [f"{typ}::{name}: not in the recording" for typ, name in replayed]


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _kubernetes_class(typ: str) -> tuple[type, dict[str, str]] | None:
    """The pulumi_kubernetes class a program declares this built-in kind with, and its wire keys by argument."""
    import pulumi_kubernetes as k8s

    return {
        "kubernetes:core/v1:PersistentVolumeClaim": (k8s.core.v1.PersistentVolumeClaim, {"spec": "spec"}),
        "kubernetes:core/v1:ConfigMap": (k8s.core.v1.ConfigMap, {"data": "data"}),
        "kubernetes:core/v1:Secret": (k8s.core.v1.Secret, {"stringData": "string_data"}),
        "kubernetes:core/v1:ServiceAccount": (k8s.core.v1.ServiceAccount, {}),
        "kubernetes:batch/v1:CronJob": (k8s.batch.v1.CronJob, {"spec": "spec"}),
        "kubernetes:batch/v1:Job": (k8s.batch.v1.Job, {"spec": "spec"}),
        "kubernetes:rbac.authorization.k8s.io/v1:Role": (k8s.rbac.v1.Role, {"rules": "rules"}),
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (k8s.rbac.v1.RoleBinding,
                                                                {"roleRef": "role_ref", "subjects": "subjects"}),
    }.get(typ)


def _replay(row: dict, opts: Any, classes: dict[str, type]) -> Any:
    """Register one recorded resource the way a program without components would declare it.

    Through a resource class, as every real declaration is: the SDK captures the caller's stack for a resource
    made by a class's `__init__` (`pulumi.runtime.resource._get_stack_trace` looks for the third `__init__`
    frame) and skips it for a bare `pulumi.CustomResource(...)`, so a replay through the base classes alone
    leaves out a cost no program can avoid. Kubernetes objects go through pulumi_kubernetes' classes with their
    provider, as the program declares them; dynamic and bridged resources are replayed with their recorded
    inputs (the dynamic provider's pickling stays on the program's side).
    """
    typ, name, inputs = row["type"], row["name"], row["inputs"]
    if typ == "pulumi:providers:kubernetes":
        import pulumi_kubernetes as k8s

        return k8s.Provider(name, opts=opts, **{_snake(k): v for k, v in inputs.items()})
    if typ.startswith("pulumi:providers:"):
        return classes["provider"](typ.split(":")[-1], name, inputs, opts)
    if typ.startswith("kubernetes:"):
        import pulumi_kubernetes as k8s

        typed = _kubernetes_class(typ)
        if typed is not None:
            cls, fields = typed
            return cls(name, metadata=inputs["metadata"], opts=opts,
                       **{arg: inputs[key] for key, arg in fields.items() if key in inputs})
        return k8s.apiextensions.CustomResource(name, api_version=inputs["apiVersion"], kind=inputs["kind"],
                                                metadata=inputs["metadata"], spec=inputs.get("spec"), opts=opts)
    return classes["custom" if row["custom"] else "component"](typ, name, inputs, opts)


def _replay_classes() -> dict[str, type]:
    """Resource classes for the replay, defined once pulumi is imported (the imports row times a clean import)."""
    import pulumi

    class _ReplayedCustom(pulumi.CustomResource):
        def __init__(self, typ: str, name: str, props: dict, opts: pulumi.ResourceOptions) -> None:
            super().__init__(typ, name, props, opts)

    class _ReplayedComponent(pulumi.ComponentResource):
        def __init__(self, typ: str, name: str, props: dict, opts: pulumi.ResourceOptions) -> None:
            super().__init__(typ, name, props, opts)

    class _ReplayedProvider(pulumi.ProviderResource):
        def __init__(self, package: str, name: str, props: dict, opts: pulumi.ResourceOptions) -> None:
            super().__init__(package, name, props, opts)

    return {"custom": _ReplayedCustom, "component": _ReplayedComponent, "provider": _ReplayedProvider}


def run_baseline(path: str, tuned: bool = True, flat: bool = False, record: list | None = None) -> tuple[float, float]:
    """Seconds for the bare SDK to register the recorded resources: the floor the program is held to.

    `flat`: the replay before 2026-11-30, through `pulumi.CustomResource`/`ComponentResource` themselves with
    no provider option (no stack capture, no pulumi_kubernetes classes): kept to compare the two floors.
    `record`: collects the replay's registration requests (for `replay_differences`).
    """
    import pulumi

    with open(path) as source:
        rows = json.load(source)
    _install_mocks(record)
    classes = _replay_classes()
    # What the program imports at start-up is imported before its clock starts; what it imports lazily (the
    # cloudflare and aws SDKs for R2 and S3 stacks) inside it. The same for the replay.
    eager, lazy = ("kubernetes:",), ("cloudflare:", "aws:")
    for prefix in eager:
        if not flat and any(row["type"].startswith(prefix) for row in rows):
            importlib.import_module(SDK_PACKAGES[prefix])
    if tuned:
        tune_for_large_graphs()  # same interpreter settings as the program: the ratio measures our code only
    started, cpu = time.perf_counter(), time.process_time()
    # The bare SDK declaring these kinds would import their provider packages too.
    for prefix, module in SDK_PACKAGES.items():
        if (flat or prefix in lazy) and any(row["type"].startswith(prefix) for row in rows):
            importlib.import_module(module)

    @pulumi.runtime.test
    def bare():
        created: dict[str, pulumi.Resource] = {}
        providers: dict[str, pulumi.Resource] = {}
        for row in rows:
            parent = created.get(row["parent"])
            if flat:
                opts = pulumi.ResourceOptions(parent=parent)
                if row["type"].startswith("pulumi:providers:"):
                    res = pulumi.ProviderResource(row["type"].split(":")[-1], row["name"], row["inputs"], opts)
                elif row["custom"]:
                    res = pulumi.CustomResource(row["type"], row["name"], row["inputs"], opts)
                else:
                    res = pulumi.ComponentResource(row["type"], row["name"], row["inputs"], opts)
            else:
                opts = pulumi.ResourceOptions(parent=parent, provider=providers.get(row["provider"]))
                res = _replay(row, opts, classes)
            created[f"{row['type']}::{row['name']}"] = res
            if row["type"].startswith("pulumi:providers:"):
                providers[row["name"]] = res

    # A parent URN ends in <type chain>::<name>, the last type of the chain being the parent's own: index by
    # type and name (a dataset's component and the component under it share the dataset's name).
    for row in rows:
        if row["parent"]:
            chain, name = row["parent"].split("::")[-2:]
            row["parent"] = f"{chain.rsplit('$', 1)[-1]}::{name}"
    bare()
    return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> None:
    mode = argv[0]
    tuned = os.environ.get("HLB_BENCH_GC", "tuned") == "tuned"
    if mode == "program":
        seconds = run_program(int(argv[1]), tuned=tuned)
    elif mode == "record":
        seconds = record_program(int(argv[1]), argv[2], tuned=tuned)
    elif mode == "baseline":
        seconds = run_baseline(argv[1], tuned=tuned)
    elif mode == "baseline-flat":
        seconds = run_baseline(argv[1], tuned=tuned, flat=True)
    elif mode == "compare":
        differences = replay_differences(argv[1], flat=argv[2:] == ["flat"])
        print("\n".join(differences) or "the floor registers what the program registered")
        raise SystemExit(1 if differences else 0)
    elif mode == "imports":
        started, cpu = time.perf_counter(), time.process_time()
        if argv[1] == "program":
            import components.estate  # noqa: F401
            import plan  # noqa: F401
            import runbook.contract  # noqa: F401
            import stack.config  # noqa: F401
        else:
            import pulumi  # noqa: F401
        seconds = time.perf_counter() - started, time.process_time() - cpu
    else:
        raise SystemExit(__doc__)
    print(json.dumps({"seconds": round(seconds[0], 4), "cpu_s": round(seconds[1], 4),
                      "peak_mib": round(_peak_mib(), 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
