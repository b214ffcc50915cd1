"""Read each resource once per analysis request, however many policies look at it.

pulumi-policy 1.21 rebuilds a resource's properties (protobuf Struct -> dict -> secrets -> unknown-checking proxy)
inside its loop over policies: `Analyze` once per resource policy, `AnalyzeStack` once per stack policy for every
resource of the stack (pulumi_policy/policy.py). With this pack's 32 policies that was three quarters of its time
at 1,000 datasets, and each stack rule then indexed the same estate again. Within one request the same message
gives the same value, so each step is kept for the rest of the request: keyed by the identity of its input, which
the memo holds so that identity cannot be reused, per thread (the SDK serves requests on a thread pool) and dropped
when the request ends. Outside a request (the unit tests call rules directly) nothing is kept.

Rules only read what they are given (they build new lists and messages, never write into properties or the estate),
which is what makes sharing one value between them safe.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pulumi_policy.policy as _sdk
from google.protobuf import json_format as _json_format

T = TypeVar("T")

_local = threading.local()


@contextmanager
def request_scope() -> Iterator[None]:
    """Keep memoized values until the end of this block (one analysis request); nested scopes share the outer one."""
    if getattr(_local, "memo", None) is not None:
        yield
        return
    _local.memo = {}
    try:
        yield
    finally:
        _local.memo = None


def active() -> bool:
    """Whether this thread is inside a request scope."""
    return getattr(_local, "memo", None) is not None


def memoized(kind: str, source: Any, compute: Callable[[], T], *extra: Any) -> T:
    """`compute()` once per request for the object `source` (and `extra`); every call outside a scope computes."""
    memo: dict | None = getattr(_local, "memo", None)
    if memo is None:
        return compute()
    key = (kind, id(source), *extra)
    found = memo.get(key)
    if found is None:
        found = memo[key] = (source, compute())
    return found[1]


class _JsonFormat:
    """`json_format` as the SDK module sees it, with `MessageToDict` of a message computed once per request."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_json_format, name)

    @staticmethod
    def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the protobuf API's name)
        """The protobuf conversion; without options, memoized on the message."""
        if args or kwargs:
            return _json_format.MessageToDict(message, *args, **kwargs)
        return memoized("dict", message, lambda: _json_format.MessageToDict(message))


def _scoped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def serve(self: Any, request: Any, context: Any) -> Any:
        with request_scope():
            return method(self, request, context)

    serve._hlb_scoped = True  # type: ignore[attr-defined]
    return serve


def install_request_memo() -> None:
    """Make the SDK's per-policy property conversions happen once per resource and request (idempotent).

    Wraps what pulumi_policy.policy calls by module-level name: `json_format.MessageToDict`,
    `deserialize_properties` (after `props.install_secret_marking`, so marked secrets are what is kept) and
    `unknown_checking_proxy`, and opens a request scope around `Analyze` and `AnalyzeStack`.
    """
    servicer = _sdk._PolicyAnalyzerServicer
    if getattr(servicer.Analyze, "_hlb_scoped", False):
        return
    deserialize = _sdk.deserialize_properties
    proxy = _sdk.unknown_checking_proxy

    @functools.wraps(deserialize)
    def deserialize_once(props: Any, proxy_secrets: bool = False) -> Any:
        return memoized("deserialized", props, lambda: deserialize(props, proxy_secrets), proxy_secrets)

    @functools.wraps(proxy)
    def proxy_once(props: Any) -> Any:
        return memoized("proxy", props, lambda: proxy(props))

    _sdk.json_format = _JsonFormat()  # type: ignore[assignment]
    _sdk.deserialize_properties = deserialize_once  # type: ignore[assignment]
    _sdk.unknown_checking_proxy = proxy_once  # type: ignore[assignment]
    servicer.Analyze = _scoped(servicer.Analyze)
    servicer.AnalyzeStack = _scoped(servicer.AnalyzeStack)


def request_memo_installed() -> bool:
    """Whether the SDK's conversions are memoized per request in this process."""
    return bool(getattr(_sdk._PolicyAnalyzerServicer.Analyze, "_hlb_scoped", False))
