"""The dalibo `Stanza` spec as pgBackRest options, so a repository can be opened outside Kubernetes.

The plugin hands its settings to pgBackRest as environment variables (`PGBACKREST_REPO<n>_*`, n = position in
`s3Repositories`, from 1). pgBackRest reads any option either from pgbackrest.conf or from the environment as
`PGBACKREST_` + the option name in upper case with `_` for `-`, so each Stanza field is one conf option. This
is the one home of that mapping: the runbook contract exports it, the restore drills run pgBackRest with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REPO_FIELDS = {
    "bucket": "s3-bucket",
    "endpoint": "s3-endpoint",
    "region": "s3-region",
    "uriStyle": "s3-uri-style",
    "verifyTLS": "storage-verify-tls",
    "repoPath": "path",
}
RETENTION_FIELDS = {
    "full": "retention-full",
    "fullType": "retention-full-type",
    "diff": "retention-diff",
    "archive": "retention-archive",
    "archiveType": "retention-archive-type",
    "history": "retention-history",
}
TOP_FIELDS = {"processMax": "process-max", "startFast": "start-fast", "delta": "delta"}
NESTED_FIELDS = {
    ("archive", "async"): "archive-async",
    ("archive", "pushQueueMax"): "archive-push-queue-max",
    ("archive", "getQueueMax"): "archive-get-queue-max",
    ("compressConfig", "type"): "compress-type",
    ("compressConfig", "level"): "compress-level",
}
PLUGIN_FIXED = {"log-level-file": "off"}
"""Set by the plugin whatever the Stanza says."""


@dataclass(frozen=True)
class StanzaOptions:
    """pgBackRest settings of one Stanza: plain options, and options whose value lives in a Secret."""

    stanza: str
    options: dict[str, str]
    secret_options: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Option -> (Secret name, key) it is read from."""
    env: dict[str, str] = field(default_factory=dict)
    """customEnvVar entries that are not pgBackRest options, passed through as environment."""


def option_value(value: Any) -> str:
    """pgBackRest spells booleans y/n."""
    if isinstance(value, bool):
        return "y" if value else "n"
    return str(value)


def env_option(name: str) -> str | None:
    """`PGBACKREST_REPO1_STORAGE_PORT` -> `repo1-storage-port`; None for variables that are not options."""
    prefix = "PGBACKREST_"
    if not name.startswith(prefix) or len(name) == len(prefix):
        return None
    return name[len(prefix):].lower().replace("_", "-")


def _ref(ref: Mapping[str, Any], where: str) -> tuple[str, str]:
    if not ref.get("name") or not ref.get("key"):
        raise ValueError(f"{where} needs a Secret name and key, got {dict(ref)!r}")
    return str(ref["name"]), str(ref["key"])


def _repository(n: int, repo: Mapping[str, Any], options: dict[str, str], secrets: dict[str, tuple[str, str]]) -> None:
    known = {*REPO_FIELDS, "secretRef", "retentionPolicy", "cipherConfig"}
    unknown = sorted(set(repo) - known)
    if unknown:
        raise ValueError(f"s3Repositories[{n - 1}]: no pgBackRest mapping for {unknown}")
    options[f"repo{n}-type"] = "s3"
    for key, option in REPO_FIELDS.items():
        if key in repo:
            options[f"repo{n}-{option}"] = option_value(repo[key])
    secret_ref = repo.get("secretRef") or {}
    if "accessKeyId" in secret_ref:
        secrets[f"repo{n}-s3-key"] = _ref(secret_ref["accessKeyId"], f"repo{n} accessKeyId")
    if "secretAccessKey" in secret_ref:
        secrets[f"repo{n}-s3-key-secret"] = _ref(secret_ref["secretAccessKey"], f"repo{n} secretAccessKey")
    for key, value in (repo.get("retentionPolicy") or {}).items():
        if key not in RETENTION_FIELDS:
            raise ValueError(f"s3Repositories[{n - 1}].retentionPolicy: no pgBackRest mapping for {key!r}")
        options[f"repo{n}-{RETENTION_FIELDS[key]}"] = option_value(value)
    cipher = repo.get("cipherConfig")
    if cipher:
        options[f"repo{n}-cipher-type"] = option_value(cipher.get("type", "aes-256-cbc"))
        secrets[f"repo{n}-cipher-pass"] = _ref(cipher["encryptionPass"], f"repo{n} encryptionPass")


def stanza_options(configuration: Mapping[str, Any]) -> StanzaOptions:
    """Options of `spec.stanzaConfiguration`; refuses fields it has no mapping for instead of dropping them."""
    known = {"name", "s3Repositories", "customEnvVar", *TOP_FIELDS, *{k for k, _ in NESTED_FIELDS}}
    unknown = sorted(set(configuration) - known)
    if unknown:
        raise ValueError(f"stanzaConfiguration: no pgBackRest mapping for {unknown}")
    options: dict[str, str] = dict(PLUGIN_FIXED)
    secrets: dict[str, tuple[str, str]] = {}
    for n, repo in enumerate(configuration.get("s3Repositories") or (), start=1):
        _repository(n, repo, options, secrets)
    for key, option in TOP_FIELDS.items():
        if key in configuration:
            options[option] = option_value(configuration[key])
    for (group, key), option in NESTED_FIELDS.items():
        if key in (configuration.get(group) or {}):
            options[option] = option_value(configuration[group][key])
    env: dict[str, str] = {}
    for name, value in (configuration.get("customEnvVar") or {}).items():
        option = env_option(name)
        if option is None:
            env[name] = str(value)
        else:
            options[option] = str(value)
    return StanzaOptions(str(configuration["name"]), dict(sorted(options.items())), dict(sorted(secrets.items())),
                         env)


def conf_text(sections: Mapping[str, Mapping[str, str]]) -> str:
    """An ini-style pgbackrest.conf; sections and options in the order given."""
    blocks = []
    for section, options in sections.items():
        lines = [f"[{section}]", *(f"{k}={v}" for k, v in options.items())]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
