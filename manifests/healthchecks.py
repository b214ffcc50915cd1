"""Healthchecks ping URLs reach jobs from a Secret: the URL carries the project ping key, enough to fake a success.

A job names the Secret key holding its check's URL (`HC_URL` via `secretKeyRef`); the Secret is derived from the
jobs themselves, one per dataset and namespace, each key the ping endpoint around the key and the check's slug.
In render mode the ExternalSecret reads only the ping key, from the one store item every such Secret shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from manifests.secrets import SecretRef, SecretSpec, SecretTemplate
from plan.units import ProtectionUnit

PING_URL_VARIABLE = "HC_URL"
"""The variable every job's `ping` function reads (manifests/workloads.py)."""
PING_KEY = SecretRef("ping_key")
"""The Healthchecks project ping key (`credentials.healthchecks.ping_key`)."""
STORE_ITEM = "healthchecks"
"""External store item holding the ping key: `homelab-backups/healthchecks`, field `ping_key`."""
_JOB_KINDS = ("CronJob", "Job")


def ping_secret_name(unit: ProtectionUnit) -> str:
    """The Secret holding the ping URLs of one dataset's jobs (one per namespace they run in)."""
    return unit.ping_secret


def ping_env(ds: ProtectionUnit, slug: str) -> dict[str, dict[str, Any]]:
    """`HC_URL` for the check `slug`, read from the dataset's ping Secret: never a plaintext value."""
    return {PING_URL_VARIABLE: {"valueFrom": {"secretKeyRef": {"name": ping_secret_name(ds), "key": slug}}}}


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    if obj.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return list(spec.get("template", {}).get("spec", {}).get("containers", []))


def referenced_slugs(objects: Iterable[dict[str, Any]], secret: str) -> dict[str, set[str]]:
    """Namespace -> the slugs jobs among `objects` read from the Secret named `secret`."""
    found: dict[str, set[str]] = {}
    for obj in objects:
        if obj.get("kind") not in _JOB_KINDS:
            continue
        for container in _containers(obj):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef", {})
                if entry.get("name") == PING_URL_VARIABLE and ref.get("name") == secret:
                    found.setdefault(obj["metadata"]["namespace"], set()).add(ref["key"])
    return found


def ping_secrets(ds: ProtectionUnit, objects: Iterable[dict[str, Any]], endpoint: str) -> list[SecretSpec]:
    """The ping Secrets the jobs among `objects` read: each slug's URL is `<endpoint><ping key>/<slug>`.

    `endpoint` is the non-secret part of the ping base (`https://hc-ping.com/`); the key stays a reference.
    """
    name = ping_secret_name(ds)
    return [SecretSpec(name=name, namespace=namespace, labels=ds.labels,
                       data={slug: SecretTemplate(endpoint, PING_KEY, f"/{slug}") for slug in sorted(slugs)},
                       remote_item=STORE_ITEM)
            for namespace, slugs in sorted(referenced_slugs(objects, name).items())]
