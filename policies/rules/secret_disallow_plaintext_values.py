"""Credentials never sit in plain text: not in a Secret's state, a rendered manifest, a ConfigMap or a provider input.

- A Kubernetes Secret's values must be Pulumi secrets (encrypted in state), and a Secret must not be rendered to a
  directory (the YAML lands in git): render mode delivers ExternalSecrets instead.
- ConfigMaps and ExternalSecret templates must not carry credential-looking keys with literal values.
- The credential inputs of the project's dynamic providers (B2 `auth`, S3-compatible `credentials`, TrueNAS
  `connection`/`provider`/encryption password and salt) must be Pulumi secrets.

Secretness is read from the engine's markers (see `props.install_secret_marking`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, is_secret, is_unknown
from .support.text import k8s_title, protects

META = Meta(
    name="secret-disallow-plaintext-values",
    description="Secret values must be Pulumi secrets and never be written in plain text to state, manifests or "
                "ConfigMaps.",
    severity=Severity.CRITICAL,
    remediation="Wrap values with pulumi.Output.secret(...), deliver Secrets as ExternalSecrets in render mode, and "
                "move credentials out of ConfigMaps and ExternalSecret templates into the secret store.",
    config_keys=("sensitiveKeyPattern",),
)
CREDENTIAL_INPUTS = {
    kinds.B2_BUCKET: ("auth",), kinds.B2_KEY: ("auth",), kinds.S3C_BUCKET: ("credentials",),
    kinds.SNAPSHOT_TASK: ("connection",), kinds.CLOUD_CREDENTIAL: ("connection", "provider"),
    kinds.CLOUD_SYNC_TASK: ("connection", "encryption_password", "encryption_salt"),
}
TYPES = (kinds.SECRET, kinds.CONFIGMAP, *kinds.EXTERNAL_SECRETS, *CREDENTIAL_INPUTS)


def _is_plain(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not is_secret(value) and not is_unknown(value)


def _plain_leaves(value: Any, path: str, sensitive: re.Pattern[str]) -> list[str]:
    """Paths of credential strings that are not secrets: the value itself, or its credential-named keys."""
    if isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            if isinstance(item, (Mapping, list)):
                found += _plain_leaves(item, f"{path}.{key}", sensitive)
            elif sensitive.search(str(key)) and _is_plain(item):
                found.append(f"{path}.{key}")
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _plain_leaves(item, f"{path}[{i}]", sensitive)]
    return [path] if _is_plain(value) else []


def _secret(resource: ResourceInput) -> list[str]:
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    directory = (resource.provider or {}).get("renderYamlToDirectory")
    if isinstance(directory, str) and directory:
        return [f"{target} is rendered into {directory!r}, a manifest meant for git, with its values base64-encoded "
                "in plain text; deliver it as an ExternalSecret (kubernetes.secret_delivery: external-secret)."]
    plain_keys = []
    for field in ("stringData", "data"):
        values = resource.props.get(field)
        if isinstance(values, Mapping):
            plain_keys += [f"{field}.{k}" for k, v in values.items() if _is_plain(v)]
    if plain_keys:
        return [f"{target} holds {', '.join(plain_keys)} in plain text (stored unencrypted in the stack state); wrap "
                "the values with pulumi.Output.secret(...)."]
    return []


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages naming each credential found in plain text."""
    sensitive = re.compile(settings["sensitiveKeyPattern"])
    if resource.type == kinds.SECRET:
        return _secret(resource)
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    if resource.type == kinds.CONFIGMAP:
        keys = [k for field in ("data", "binaryData") for k in (resource.props.get(field) or {})
                if sensitive.search(str(k))]
        if keys:
            return [f"{target} holds {', '.join(keys)}, which look like credentials, in a ConfigMap (plain text to "
                    "anyone who can read the namespace); move them to a Secret or ExternalSecret."]
        return []
    if resource.type in kinds.EXTERNAL_SECRETS:
        template = get(resource.props, "spec", "target", "template", "data", default={})
        literal = [k for k, v in (template.items() if isinstance(template, Mapping) else [])
                   if sensitive.search(str(k)) and _is_plain(v) and "{{" not in v]
        if literal:
            return [f"{target} writes {', '.join(literal)} as literal template values (committed with the "
                    "manifest); fetch them from the secret store with spec.data remoteRefs instead."]
        return []
    name = resource.name
    messages = []
    for field in CREDENTIAL_INPUTS[resource.type]:
        value = resource.props.get(field)
        if value is None:
            continue
        leaves = _plain_leaves(value, field, sensitive)
        if leaves:
            messages.append(f"{resource.type.rsplit(':', 1)[-1]} {name!r} takes {', '.join(leaves)} in plain text "
                            "(stored unencrypted in the stack state); pass it as pulumi.Output.secret(...).")
    return messages


POLICY = resource_policy(META, TYPES, check)
