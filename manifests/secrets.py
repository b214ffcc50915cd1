"""Secrets without values: builders describe each Secret's keys; the program fills in the sensitive ones.

A `SecretSpec` names the Secret, its labels, and for every key either a plain string (a repository URL, a region)
or a `SecretRef` saying which secret the program must supply. The dataset and destination labels of the spec
scope the reference: `SecretRef("repository_password")` in the `vaultwarden-b2-repo` spec means the restic
password of that one repository. Values never pass through the builders, so rendered manifests cannot leak them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from manifests.meta import metadata

_REF_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


@dataclass(frozen=True)
class SecretRef:
    """A sensitive value the program must supply (from a Pulumi secret or the external store)."""

    name: str
    """What the value is, e.g. `repository_password`; also the field name in the external store."""

    def __post_init__(self) -> None:
        if not _REF_NAME.match(self.name):
            raise ValueError(f"secret reference {self.name!r} must be snake_case")


REPOSITORY_PASSWORD = SecretRef("repository_password")
"""Encryption password of one restic or kopia repository."""
ACCESS_KEY_ID = SecretRef("access_key_id")
"""S3 access key id of the credential scoped to the copy's bucket."""
SECRET_ACCESS_KEY = SecretRef("secret_access_key")
"""S3 secret key of that credential."""
READER_ACCESS_KEY_ID = SecretRef("reader_access_key_id")
"""S3 access key id of the copy's read-only key (check and drill jobs): it can list and read, never change."""
READER_SECRET_ACCESS_KEY = SecretRef("reader_secret_access_key")
"""S3 secret key of that read-only key."""
CIPHER_PASS = SecretRef("cipher_pass")
"""pgBackRest `repo-cipher-pass` of one repository."""


@dataclass(frozen=True)
class SecretTemplate:
    """A value built around one secret: `before` + the referenced value + `after` (a ping URL around its key).

    The parts outside the reference are not secret; the whole value is. The external store then holds only the
    referenced value, and the ExternalSecret assembles the rest through its template.
    """

    before: str
    ref: SecretRef
    after: str = ""

    def __post_init__(self) -> None:
        if "{{" in self.before + self.after or "}}" in self.before + self.after:
            raise ValueError(f"template around {self.ref.name!r} passes through the template engine; '{{{{' and "
                             "'}}' not allowed")


@dataclass(frozen=True)
class SecretSpec:
    """An Opaque Secret described key by key, with sensitive values left as references."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    data: Mapping[str, str | SecretRef | SecretTemplate] = field(default_factory=dict)
    remote_item: str | None = None
    """The external store item its references are read from; None: the item named after this Secret. Secrets
    that share one value (the Healthchecks ping key) name one item, so the user stores it once."""

    def __post_init__(self) -> None:
        for key, value in self.data.items():
            if not _SECRET_KEY.match(key):
                raise ValueError(f"{self.name}: {key!r} is not a valid Secret key")
            if not isinstance(value, str | SecretRef | SecretTemplate):
                raise TypeError(f"{self.name}.{key}: expected str, SecretRef or SecretTemplate, "
                                f"got {type(value).__name__}")
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def refs(self) -> dict[str, SecretRef]:
        """Keys whose values the program must supply."""
        return {k: v for k, v in self.data.items() if isinstance(v, SecretRef)}

    def templates(self) -> dict[str, SecretTemplate]:
        """Keys whose values wrap a reference in known text."""
        return {k: v for k, v in self.data.items() if isinstance(v, SecretTemplate)}

    def plain(self) -> dict[str, str]:
        """Keys whose values are known at render time and safe to show."""
        return {k: v for k, v in self.data.items() if isinstance(v, str)}


def secret_manifest(spec: SecretSpec, resolve: Callable[[SecretRef], Any]) -> dict[str, Any]:
    """A v1 Secret with `stringData`; `resolve` maps each reference to its value (or a Pulumi Output of it)."""
    def value(v: str | SecretRef | SecretTemplate) -> Any:
        if isinstance(v, SecretTemplate):
            return v.before + resolve(v.ref) + v.after
        return resolve(v) if isinstance(v, SecretRef) else v

    string_data = {k: value(v) for k, v in spec.data.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(spec.name, spec.namespace, dict(spec.labels)),
        "type": "Opaque",
        "stringData": string_data,
    }


def external_secret(spec: SecretSpec, store: str, remote_key_prefix: str) -> dict[str, Any]:
    """An external-secrets.io/v1 ExternalSecret that assembles the same Secret from a ClusterSecretStore.

    Each reference is read from the remote item `<remote_key_prefix><secret name>` (or the spec's `remote_item`),
    field `<reference name>` (1Password: one item per Secret, one field per reference). Plain values and the text
    around templated references are rendered through the target template and merged with the fetched keys, so
    the store only ever holds the sensitive ones.
    """
    plain = spec.plain()
    for key, value in plain.items():
        if "{{" in value:
            raise ValueError(f"{spec.name}.{key}: plain values pass through the template engine; '{{{{' not allowed")
    template: dict[str, Any] = {
        "engineVersion": "v2",
        "mergePolicy": "Merge",
        "metadata": {"labels": dict(spec.labels)},
    }
    templated = dict(plain)
    templated |= {k: f"{t.before}{{{{ .{t.ref.name} }}}}{t.after}" for k, t in spec.templates().items()}
    if templated:
        template["data"] = templated
    item = spec.remote_item or spec.name
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": metadata(spec.name, spec.namespace, dict(spec.labels)),
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": {
                "name": spec.name,
                "creationPolicy": "Owner",
                # A backup credential must survive its remote item being renamed or briefly missing.
                "deletionPolicy": "Retain",
                "template": template,
            },
            "data": [
                {"secretKey": key, "remoteRef": {"key": f"{remote_key_prefix}{item}", "property": ref.name}}
                for key, ref in sorted(spec.refs().items())
            ] + [
                # Read under the reference's own name, for the template; never a key the job reads.
                {"secretKey": name, "remoteRef": {"key": f"{remote_key_prefix}{item}", "property": name}}
                for name in sorted({t.ref.name for t in spec.templates().values()} - set(spec.data))
            ],
        },
    }
