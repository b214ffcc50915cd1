"""The pack in-process at sizes the engine takes minutes to feed: `python -m bench.pack_scaling 250,1000,4000`.

The SDK's analyzer service runs on real protobuf requests (every resource through `Analyze`, then the stack
through `AnalyzeStack`), as under `pulumi policy analyze` minus the engine and gRPC. Estates are copies of the
policy tests' six-dataset estate. Prints CPU milliseconds per dataset at each size: flat means linear.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from policies.rules.support.interpreter import GC_THRESHOLDS
from tests.policies import fixtures as f
from tests.policies.test_support import _big_estate, _pack_policies


def pack_cpu_seconds(datasets: int) -> dict[str, float]:
    """CPU seconds of the whole pack on an estate of about `datasets` datasets (six per copy)."""
    nodes = _big_estate(max(1, datasets // 6))
    requests, stack_request = f.analyze_requests(nodes), f.analyze_stack_request(nodes)
    service = f.analyzer(_pack_policies())
    gc.collect()
    started = time.process_time()
    for request in requests:
        service.Analyze(request, None)
    resources = time.process_time() - started
    service.AnalyzeStack(stack_request, None)
    return {"resources": len(nodes), "analyze_s": resources, "stack_s": time.process_time() - started - resources}


def main(sizes: list[int]) -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    for size in sizes:
        measured = pack_cpu_seconds(size)
        total = measured["analyze_s"] + measured["stack_s"]
        print(json.dumps({"datasets": size, **{k: round(v, 2) for k, v in measured.items()},
                          "ms_per_dataset": round(total / size * 1000, 2)}), flush=True)


if __name__ == "__main__":
    main([int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "250,1000,4000").split(",")])
