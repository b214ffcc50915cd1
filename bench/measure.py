"""One measurement per process (clean imports, honest peak memory); prints one JSON line.

  python -m bench.measure program N           the program's composition under mocks, N datasets
                                              (HLB_BENCH_INVENTORY=FILE: that inventory, JSON, instead)
  python -m bench.measure record N FILE       the same run, saving every registration to FILE
  python -m bench.measure baseline FILE       the bare SDK registering exactly those resources
  python -m bench.measure imports program|pulumi
"""

from __future__ import annotations

import importlib
import json
import os
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
    from pulumi.runtime import rpc

    requests: list = []
    seconds = run_program(datasets, requests, tuned)
    rows = []
    for request in requests:
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        rows.append({"type": request.type, "name": request.name, "parent": request.parent, "custom": request.custom,
                     "provider": request.provider.split("::")[-2] if request.provider else "",
                     "inputs": _plain(inputs)})
    with open(path, "w") as out:
        json.dump(rows, out)
    return seconds


def run_baseline(path: str, tuned: bool = True) -> tuple[float, float]:
    """Seconds for the bare SDK to register the recorded resources: the floor the program is held to."""
    import pulumi

    with open(path) as source:
        rows = json.load(source)
    _install_mocks()
    if tuned:
        tune_for_large_graphs()  # same interpreter settings as the program: the ratio measures our code only
    started, cpu = time.perf_counter(), time.process_time()
    # The bare SDK declaring these kinds would import their provider packages too.
    for prefix, module in SDK_PACKAGES.items():
        if any(row["type"].startswith(prefix) for row in rows):
            importlib.import_module(module)

    @pulumi.runtime.test
    def bare():
        created: dict[str, pulumi.Resource] = {}
        for row in rows:
            opts = pulumi.ResourceOptions(parent=created.get(row["parent"]))
            urn_key = f"{row['type']}::{row['name']}"
            if row["type"].startswith("pulumi:providers:"):
                res = pulumi.ProviderResource(row["type"].split(":")[-1], row["name"], row["inputs"], opts)
            elif row["custom"]:
                res = pulumi.CustomResource(row["type"], row["name"], row["inputs"], opts)
            else:
                res = pulumi.ComponentResource(row["type"], row["name"], row["inputs"], opts)
            created[urn_key] = res
            created.setdefault(row["name"], res)

    # Parent URNs end in ::<name>; index by that so the replay keeps the same tree.
    for row in rows:
        row["parent"] = row["parent"].rsplit("::", 1)[-1] if row["parent"] else None
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
