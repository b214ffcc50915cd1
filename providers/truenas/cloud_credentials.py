"""`cloudsync.credentials`: the cloud credentials cloud sync tasks write with (25.04 shape, B2 and S3)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pulumi

from providers import wire
from providers.truenas.service import (
    REDACTED,
    ServiceProvider,
    ServiceResource,
)

__all__ = ["CREDENTIAL_SHAPES", "CloudCredential", "CloudCredentialProvider"]

CREDENTIAL_SHAPES: dict[str, dict[str, Any]] = {
    "B2": {"account": None, "key": None},
    "S3": {
        "access_key_id": None,
        "secret_access_key": None,
        "endpoint": "",
        "region": "",
        "skip_region": False,
        "signatures_v2": False,
        "max_upload_parts": 10000,
    },
}
"""25.04 `provider` shapes this resource supports: required keys map to None, optional keys to the API default."""


def _normalize_endpoint(endpoint: Any) -> Any:
    """The middleware parses S3 endpoints as URLs and stores `https://host` as `https://host/`."""
    if isinstance(endpoint, str) and endpoint and not wire.has_unknowns(endpoint):
        parts = urlsplit(endpoint)
        if parts.scheme and parts.netloc and not parts.path and not parts.query:
            return f"{endpoint}/"
    return endpoint


class CloudCredentialProvider(ServiceProvider):
    """`cloudsync.credentials` in the 25.04 shape `{name, provider: {type, ...}}`, for B2 and S3-compatible stores.

    Changing `provider.type` replaces the credential, deleting the old one first because names are unique on the NAS.
    """

    namespace = "cloudsync.credentials"
    kind = "cloud credential"
    ui_location = "Credentials > Backup Credentials > Cloud Credentials"
    api_fields = ("name", "provider")
    output_fields = ("credential_id", "provider_type")
    delete_before_replace = True
    union_tags: ClassVar[Mapping[str, Collection[str]]] = {"provider": tuple(CREDENTIAL_SHAPES)}
    hints = (
        ("name", "already exists", "choose a name no other cloud credential on the NAS uses"),
        ("provider.endpoint", "", "give the S3 endpoint as a full URL (https://...) or '' for AWS"),
        ("provider", "does not match any of the expected tags", "use provider.type B2 or S3"),
        ("provider", "Field required", "fill in every required key of this provider type"),
        (
            "",
            "is used by cloud sync task",
            "delete the cloud sync tasks using this credential, or point them at another credential, first",
        ),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        name = props.get("name")
        return f"cloud credential {name!r}" if isinstance(name, str) and not wire.has_unknowns(name) else self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        name = news.get("name")
        if not wire.has_unknowns(name) and (not isinstance(name, str) or not name.strip()):
            problems.append(("name", "required: a unique, non-empty name shown in the TrueNAS UI"))
        provider = news.get("provider")
        if wire.has_unknowns(provider) and not isinstance(provider, Mapping):
            return problems
        if not isinstance(provider, Mapping):
            return [*problems, ("provider", "must be a dict like {type: 'B2', account: ..., key: ...}")]
        kind = provider.get("type")
        if wire.has_unknowns(kind):
            return problems
        shape = CREDENTIAL_SHAPES.get(kind) if isinstance(kind, str) else None
        if shape is None:
            return [
                *problems,
                (
                    "provider.type",
                    f"must be one of {', '.join(CREDENTIAL_SHAPES)} (S3 covers R2, AWS and S3-compatible stores)",
                ),
            ]
        for key in provider:
            if key != "type" and key not in shape:
                problems.append((f"provider.{key}", f"not a {kind} credential key; allowed: {', '.join(shape)}"))
        for key, default in shape.items():
            value = provider.get(key)
            if wire.has_unknowns(value):
                continue
            if default is None and (not isinstance(value, str) or not value):
                problems.append((f"provider.{key}", f"required for {kind} credentials"))
            elif default is not None and value is not None and type(value) is not type(default):
                problems.append((f"provider.{key}", f"must be a {type(default).__name__}"))
        endpoint = provider.get("endpoint")
        if isinstance(endpoint, str) and endpoint and not wire.has_unknowns(endpoint):
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(
                    ("provider.endpoint", "must be '' (AWS) or a URL like https://s3.eu-central-003.backblazeb2.com")
                )
        parts_value = provider.get("max_upload_parts")
        if wire.is_int(parts_value) and parts_value < 1:
            problems.append(("provider.max_upload_parts", "must be >= 1"))
        return problems

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        provider = inputs.get("provider")
        if isinstance(provider, Mapping) and provider.get("type") in CREDENTIAL_SHAPES:
            shape = CREDENTIAL_SHAPES[provider["type"]]
            merged = {"type": provider["type"]}
            merged.update({key: default for key, default in shape.items() if default is not None})
            merged.update(provider)
            if "endpoint" in merged:
                merged["endpoint"] = _normalize_endpoint(merged["endpoint"])
            inputs["provider"] = merged
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        provider = dict(entry.get("provider") or {})
        known_provider = known.get("provider") if isinstance(known.get("provider"), Mapping) else {}
        for key, value in provider.items():
            if value == REDACTED and key in known_provider:
                provider[key] = known_provider[key]
        return {"name": entry.get("name"), "provider": provider}

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"credential_id": entry["id"], "provider_type": (entry.get("provider") or {}).get("type")}

    def _replaces(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        old_type = (olds.get("provider") or {}).get("type")
        new_provider = news.get("provider")
        new_type = new_provider.get("type") if isinstance(new_provider, Mapping) else wire.UNKNOWN
        return ["provider"] if wire.has_unknowns(new_type) or old_type != new_type else []

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["name", "=", props["name"]]]

    def _same_object(self, entry: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        return entry.get("name") == props.get("name")


class CloudCredential(ServiceResource, module="truenas", name="CloudCredential"):
    """A TrueNAS cloud credential (`cloudsync.credentials`, 25.04 shape) for B2 or S3-compatible storage."""

    provider_class = CloudCredentialProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection", "provider")

    credential_id: pulumi.Output[int]
    """TrueNAS id of the credential. Wire CloudSyncTask.credentials to `.id` instead: the engine keeps a resource id
    known while previewing an update, whereas a dynamic resource's outputs become unknown."""
    name: pulumi.Output[str]
    """Unique name shown in the TrueNAS UI."""
    provider: pulumi.Output[dict[str, Any]]
    """{type: B2, account, key} or {type: S3, access_key_id, secret_access_key, endpoint, region, ...} (secret)."""
    provider_type: pulumi.Output[str]
    """B2 or S3, readable without the secret."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        name: pulumi.Input[str],
        provider: pulumi.Input[Mapping[str, Any]],
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._declare(resource_name, opts, connection=connection, name=name, provider=provider, context=context)
