"""Minimal reproduction: the Pulumi SDK captures the caller's stack for a resource declared through a class and
skips it for the same resource declared through `pulumi.CustomResource` itself.

`_get_stack_trace` (pulumi/runtime/resource.py) takes the frames below the third `__init__` on the stack
(Resource, CustomResource, then the concrete class); a direct `pulumi.CustomResource(...)` has only two, so its
stack trace is empty. Every provider SDK class (pulumi_kubernetes, pulumi_aws, dynamic resources) and every
component is a subclass, so a floor that replays registrations through the base classes leaves this cost out.
`python -m bench.sdk_capture [N]` registers N resources under mocks both ways, from the same call depth, and prints
CPU seconds (best of two) and the frames captured per registration; no project code is involved.
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


class Thing(pulumi.CustomResource):
    """The same resource as a class, as every provider SDK declares its resources."""

    def __init__(self, name: str, props: dict) -> None:
        super().__init__("bench:index:Thing", name, props)


def run(count: int, through_class: bool) -> tuple[float, float]:
    """CPU seconds to register `count` resources, and the mean number of frames captured for each."""
    pulumi.runtime.set_mocks(_Mocks(), project="capture", stack="bench", preview=False)
    original, frames = runtime_resource._get_stack_trace, []

    def counted() -> object:
        trace = original()
        frames.append(len(trace.frames))
        return trace

    runtime_resource._get_stack_trace = counted
    started = time.process_time()

    @pulumi.runtime.test
    def program() -> None:
        for index in range(count):
            props = {"value": index, "labels": {"a": "b"}}
            if through_class:
                Thing(f"thing-{index}", props)
            else:
                pulumi.CustomResource("bench:index:Thing", f"thing-{index}", props)

    try:
        program()
    finally:
        runtime_resource._get_stack_trace = original
    return time.process_time() - started, sum(frames) / max(len(frames), 1)


def main(count: int) -> None:
    run(count // 4, True)  # warm up: imports and first-use caches
    results: dict[str, list[float]] = {}
    captured: dict[str, float] = {}
    for _ in range(2):  # best of two, configurations interleaved: the machine is shared
        for through_class in (False, True):
            key = "through a class" if through_class else "pulumi.CustomResource itself"
            seconds, captured[key] = run(count, through_class)
            results.setdefault(key, []).append(seconds)
    print(json.dumps({key: {"cpu_s": round(min(values), 2), "frames_captured": round(captured[key], 1)}
                      for key, values in results.items()}, indent=1))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
