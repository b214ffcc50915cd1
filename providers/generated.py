"""Secrets generated once and kept in state: repository passwords, cipher passphrases, rclone salts.

A dynamic resource instead of a random provider (none can be installed here): the value is created on
first `up`, stored only as a Pulumi secret, and never changes unless the resource is replaced.
"""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider

from providers import wire


class GeneratedSecretProvider(ResourceProvider):
    """Creates a URL-safe random string of `length` characters; changing the length replaces it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The length must be a whole number in 16..256 once known (the wire sends it as a double)."""
        length = wire.reveal(news.get("length"))
        failures = []
        if wire.known(length) and not (wire.is_int(wire.whole(length)) and 16 <= length <= 256):
            failures.append(CheckFailure("length", f"must be a whole number of characters in 16..256, not {length!r}"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        length = int(props["length"])
        value = secrets.token_urlsafe(length)[:length]
        return CreateResult(secrets.token_hex(8), {**props, "value": value})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = wire.differs(olds.get("length"), news.get("length"))
        return DiffResult(changes=changed, replaces=["length"] if changed else [], delete_before_replace=False)


class GeneratedSecret(pulumi.dynamic.Resource, module="secrets", name="GeneratedSecret"):
    """A random secret created once; `value` is a secret output."""

    value: pulumi.Output[str]

    def __init__(self, name: str, length: int = 48, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            GeneratedSecretProvider(), name, {"length": length, "value": None}, wire.with_secret_outputs(opts, "value")
        )
