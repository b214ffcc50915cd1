"""Turn pure rule functions into CrossGuard policies, and nothing more.

A resource rule is `check(resource, settings) -> list[str]` (one message per violation) over a `ResourceInput`; a
stack rule is `check(resources, settings) -> list[Violation]` over `StackResource`s. Both may raise `NotApplicable`
with a reason, and `UnknownValueError` (through `props.require`) when a deciding value is unknown during preview.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .. import config
from .memo import install_request_memo, memoized
from .props import install_secret_marking, plain

install_secret_marking()
install_request_memo()


class NotApplicable(Exception):  # noqa: N818 (mirrors the SDK's not-applicable outcome, not an error)
    """The rule does not apply to this resource or stack; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResourceInput:
    """One resource as a resource rule sees it: its inputs, plain."""

    type: str
    name: str
    props: dict[str, Any]
    urn: str = ""
    provider: dict[str, Any] | None = None
    """Plain inputs of the resource's provider (e.g. kubernetes renderYamlToDirectory), when the engine sends them."""


@dataclass(frozen=True)
class StackResource:
    """One resource as a stack rule sees it: its outputs (the engine's final state), plain, and its parent URN."""

    urn: str
    type: str
    name: str
    props: dict[str, Any]
    parent: str | None = None


@dataclass(frozen=True)
class Violation:
    """A stack rule's finding, attached to the resource (or dataset component) it concerns."""

    message: str
    urn: str | None = None


ResourceCheck = Callable[[ResourceInput, dict[str, Any]], list[str]]
StackCheck = Callable[[Sequence[StackResource], dict[str, Any]], list[Violation]]


@dataclass(frozen=True)
class Meta:
    """What every policy declares besides its check."""

    name: str
    description: str
    severity: Severity
    remediation: str
    enforcement: EnforcementLevel = EnforcementLevel.MANDATORY
    config_keys: tuple[str, ...] = field(default_factory=tuple)


def _type_list(types: Sequence[str]) -> str:
    return ", ".join(types)


def resource_policy(meta: Meta, types: Sequence[str], check: ResourceCheck) -> ResourceValidationPolicy:
    """A resource policy that runs `check` on resources of `types` and says not-applicable to every other type."""
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        """The SDK's callback: plain inputs in, messages (or not-applicable) out."""
        if args.resource_type not in wanted:
            args.not_applicable(f"checks only {_type_list(types)}")
        provider = plain_props(args.provider.props) if args.provider is not None else None
        resource = ResourceInput(args.resource_type, args.name, plain_props(args.props), args.urn, provider)
        try:
            messages = check(resource, config.settings(args.get_config(), meta.config_keys))
        except NotApplicable as exc:
            args.not_applicable(exc.reason)
            return
        for message in messages:
            report(message, None)

    return ResourceValidationPolicy(
        name=meta.name,
        description=meta.description,
        validate=validate,
        enforcement_level=meta.enforcement,
        config_schema=config.schema(*meta.config_keys) if meta.config_keys else None,
        severity=meta.severity,
        remediation_steps=meta.remediation,
        tags=["homelab-backups"],
    )


_THIS_STACK = object()
"""The memo key of the stack a request analyzes."""


def plain_props(props: Any) -> dict[str, Any]:
    """`plain` of the SDK's properties proxy, once per request (every policy is handed the same proxy)."""
    return memoized("plain", props, lambda: plain(props))


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    """The stack's resources as plain records (parent from the resolved parent, else from the options).

    One request carries one stack, so within a request every stack policy gets the same list (and, through
    `Estate.build`, the same index).
    """
    return memoized("stack", _THIS_STACK, lambda: _stack_resources(args))


def _stack_resources(args: StackValidationArgs) -> list[StackResource]:
    result = []
    for r in args.resources:
        parent = r.parent.urn if r.parent is not None else r.opts.parent
        result.append(StackResource(r.urn, r.resource_type, r.name, plain_props(r.props), parent))
    return result


def stack_policy(meta: Meta, check: StackCheck) -> StackValidationPolicy:
    """A stack policy that runs `check` once over every resource of the stack."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        """The SDK's callback: plain outputs of the whole stack in, violations with URNs out."""
        try:
            violations = check(stack_resources(args), config.settings(args.get_config(), meta.config_keys))
        except NotApplicable as exc:
            args.not_applicable(exc.reason)
            return
        for violation in violations:
            report(violation.message, violation.urn)

    return StackValidationPolicy(
        name=meta.name,
        description=meta.description,
        validate=validate,
        enforcement_level=meta.enforcement,
        config_schema=config.schema(*meta.config_keys) if meta.config_keys else None,
        severity=meta.severity,
        remediation_steps=meta.remediation,
        tags=["homelab-backups"],
    )
