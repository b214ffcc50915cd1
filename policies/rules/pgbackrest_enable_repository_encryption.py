"""Every pgBackRest repository is encrypted client-side (aes-256-cbc) with its own passphrase.

Database backups hold every row in plain form; design §4 requires client-side encryption for Tier 1 and for any
offsite copy. pgBackRest only encrypts when the repository has a cipher type and passphrase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .support import kinds
from .support.policy import Meta, ResourceInput, resource_policy
from .support.props import get, require
from .support.text import k8s_title, protects, quoted

META = Meta(
    name="pgbackrest-enable-repository-encryption",
    description="Every pgBackRest repository must be encrypted with aes-256-cbc and a passphrase from a Secret.",
    severity=Severity.HIGH,
    remediation="Give each s3Repositories entry cipherConfig: {type: aes-256-cbc, encryptionPass: {name: <Secret>, "
                "key: CIPHER_PASS}}.",
)
CIPHER = "aes-256-cbc"


def check(resource: ResourceInput, settings: dict[str, Any]) -> list[str]:
    """Messages for each repository without a cipher type or passphrase."""
    target = k8s_title(resource.props, resource.name) + protects(resource.props)
    configuration = require(get(resource.props, "spec", "stanzaConfiguration"), "spec", "stanzaConfiguration")
    messages = []
    for section in ("s3Repositories", "azureRepositories"):
        repositories = get(configuration, section, default=[])
        for index, repo in enumerate(repositories if isinstance(repositories, list) else []):
            if not isinstance(repo, Mapping):
                continue
            where = f"{section}[{index}] (bucket {quoted(repo.get('bucket') or repo.get('container'))})"
            cipher = repo.get("cipherConfig")
            kind = require(get(cipher, "type"), section, index, "cipherConfig", "type")
            if kind != CIPHER:
                found = "no cipherConfig" if not isinstance(cipher, Mapping) else f"cipher type {quoted(kind)}"
                messages.append(f"{target} {where} has {found}; set cipherConfig.type: {CIPHER} with an "
                                "encryptionPass Secret reference.")
                continue
            secret = get(cipher, "encryptionPass")
            if not isinstance(secret, Mapping) or not secret.get("name") or not secret.get("key"):
                messages.append(f"{target} {where} has no cipherConfig.encryptionPass {{name, key}}; reference the "
                                "Secret key holding the repository passphrase.")
    return messages


POLICY = resource_policy(META, (kinds.STANZA,), check)
