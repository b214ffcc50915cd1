"""Names and labels of everything the program declares: the one home of how they are spelled.

Labels are the contract with the policy pack and the alerts: they say which dataset, tier and destination an
object protects, and that this program owns it. Names are deterministic so a second run renders the same objects.
"""

from __future__ import annotations

import hashlib
import re

LABEL_DATASET = "backup.homelab/dataset"
LABEL_TIER = "backup.homelab/tier"
LABEL_DESTINATION = "backup.homelab/destination"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_STORAGE_CLASS = "backup.homelab/storage-class"
"""On ReplicationSources: the source claim's class, so policies can refuse classes restores corrupt."""
LABEL_VERIFICATION = "backup.homelab/verification"
"""On check and drill jobs: `check` or `drill`, for the policy pack."""
MANAGER = "homelab-backups"

NAME_LIMIT = 63
"""DNS-1123 label length: Kubernetes names, label values and Service-derived names."""
CRONJOB_NAME_LIMIT = 52
"""CronJob names leave room for the 11-character suffix of the Jobs they spawn."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HASH_CHARS = 8


def labels(dataset: str, tier: int, destination: str | None = None) -> dict[str, str]:
    """The labels every object carries; `destination` only where the object serves one copy."""
    result = {LABEL_DATASET: dataset, LABEL_TIER: str(tier)}
    if destination is not None:
        result[LABEL_DESTINATION] = destination
    result[LABEL_MANAGED_BY] = MANAGER
    return result


def tier_labels(tier: int) -> dict[str, str]:
    """Labels of an object that serves a whole tier (its alert rules), not one dataset."""
    return {LABEL_TIER: str(tier), LABEL_MANAGED_BY: MANAGER}


def object_name(*parts: str, limit: int = NAME_LIMIT) -> str:
    """`<part>-<part>...`, shortened with a stable hash suffix when it would exceed `limit`.

    Two long inputs sharing a prefix still get different names, and the same input always gets the same name.
    """
    joined = "-".join(p for p in parts if p)
    if not _DNS_LABEL.match(joined):
        raise ValueError(f"{joined!r} is not a DNS label (lowercase letters, digits and '-')")
    if len(joined) <= limit:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:_HASH_CHARS]
    head = joined[: limit - _HASH_CHARS - 1].rstrip("-")
    return f"{head}-{digest}"


def writer_key(dataset: str, tool: str) -> str:
    """A writer's key inside its bucket (`BucketPlan.writers`, the credential maps): one per dataset and tool."""
    return f"{dataset}-{tool}"


def bucket_key(destination: str, tier: int) -> str:
    """The bucket of one destination and tier (`BucketPlan.key`)."""
    return f"{destination}-tier{tier}"


def ca_config_map(destination: str) -> str:
    """The ConfigMap holding a private-CA destination's bundle: one per namespace, shared by every copy there (the
    bundle is public, so no Secret)."""
    return f"hlb-ca-{destination}"


def backup_slug(dataset: str, destination: str) -> str:
    """The Healthchecks slug one copy's backups ping."""
    return f"backup-{dataset}-{destination}"
