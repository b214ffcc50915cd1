"""Minimal reproduction: the Pulumi SDK's cost per registration grows with the Python call depth it is made at.

`python -m bench.sdk_depth [N]` registers N custom resources under mocks, at the top of the stack and 40 frames
deeper (about as deep as a resource created inside nested components), each with and without the SDK's source
position capture (`pulumi.runtime.resource._get_stack_trace`, which walks and formats every frame on each
registration). Prints CPU seconds for each (best of two); no project code is involved.
"""

from __future__ import annotations

import json
import sys
import time

import pulumi
from pulumi.runtime import resource as runtime_resource


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def _nested(depth: int, make: object) -> None:
    if depth == 0:
        make()  # type: ignore[operator]
    else:
        _nested(depth - 1, make)


def run(count: int, depth: int) -> float:
    """CPU seconds to register `count` resources, each from `depth` extra frames down."""
    pulumi.runtime.set_mocks(_Mocks(), project="depth", stack="bench", preview=False)
    started = time.process_time()

    @pulumi.runtime.test
    def program() -> None:
        for index in range(count):
            _nested(depth, lambda index=index: pulumi.CustomResource(
                "bench:index:Thing", f"thing-{index}", {"value": index, "labels": {"a": "b"}}))

    program()
    return time.process_time() - started


def main(count: int) -> None:
    original = runtime_resource._get_stack_trace
    run(count // 4, 0)  # warm up: imports and first-use caches
    results: dict[str, list[float]] = {}
    for _ in range(2):  # best of two, configurations interleaved: the machine is shared
        for capture in (True, False):
            runtime_resource._get_stack_trace = original if capture else runtime_resource.source_pb2.StackTrace
            for depth in (0, 40):
                key = f"depth {depth}, stack capture {'on' if capture else 'off'}"
                results.setdefault(key, []).append(run(count, depth))
    runtime_resource._get_stack_trace = original
    results = {k: round(min(v), 2) for k, v in results.items()}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
