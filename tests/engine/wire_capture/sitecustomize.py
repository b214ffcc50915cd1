"""Records what the engine sends dynamic providers' `Check` and `Diff`, as it arrives on the wire.

Put this directory on PYTHONPATH and set HLB_WIRE_CAPTURE to a file: every Python dynamic-provider host the engine
starts then appends one JSON line per `Check`/`Diff` request (urn, id, olds, news as protobuf JSON; the pickled
provider left out) before the host deserializes it. Used by the engine scenarios (tests/engine/project.py) to keep
tests/providers/wire_forms/ equal to what a real preview sends. Without the variable it does nothing.
"""

from __future__ import annotations

import os

if os.environ.get("HLB_WIRE_CAPTURE"):
    import json
    import threading
    from typing import Any

    from google.protobuf.json_format import MessageToDict
    from pulumi.runtime.proto import provider_pb2_grpc

    _LOCK = threading.Lock()
    _PROVIDER_KEY = "__provider"

    def _record(method: str, request: Any) -> None:
        entry: dict[str, Any] = {"method": method, "urn": request.urn}
        if method == "Diff":
            entry["id"] = request.id
        for field in ("olds", "news"):
            props = MessageToDict(getattr(request, field))
            props.pop(_PROVIDER_KEY, None)
            entry[field] = props
        line = json.dumps(entry, sort_keys=True)
        with _LOCK, open(os.environ["HLB_WIRE_CAPTURE"], "a", encoding="utf-8") as out:
            out.write(line + "\n")

    def _recording(method: str, handler: Any) -> Any:
        def handle(request: Any, context: Any) -> Any:
            _record(method, request)
            return handler(request, context)

        return handle

    _add = provider_pb2_grpc.add_ResourceProviderServicer_to_server

    def _add_recording(servicer: Any, server: Any) -> Any:
        for method in ("Check", "Diff"):
            setattr(servicer, method, _recording(method, getattr(servicer, method)))
        return _add(servicer, server)

    provider_pb2_grpc.add_ResourceProviderServicer_to_server = _add_recording
