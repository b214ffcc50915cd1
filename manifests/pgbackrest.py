"""pgBackRest for CloudNativePG clusters through the dalibo CNPG-I plugin (`pgbackrest.dalibo.com`).

One Stanza per cluster with one S3 repository per destination (WAL goes to every repository; base backups pick
one with `selectedRepository`), a PluginConfig that enables the metrics exporter sidecar, ScheduledBackups in
CNPG's 6-field cron dialect, and the `spec.plugins` entry the user adds to the Cluster in their own repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from inventory.models import Dataset, PostgresSource
from manifests.meta import labels, metadata, object_name
from manifests.secrets import (
    ACCESS_KEY_ID,
    CIPHER_PASS,
    READER_ACCESS_KEY_ID,
    READER_SECRET_ACCESS_KEY,
    SECRET_ACCESS_KEY,
    SecretRef,
    SecretSpec,
)
from plan.model import CopyPlan, DatasetPlan

API_VERSION = "pgbackrest.dalibo.com/v1"
PLUGIN_NAME = "pgbackrest.dalibo.com"
CIPHER = "aes-256-cbc"
EXPORTER_INTERVAL_SECONDS = 600

KEY_ACCESS_KEY_ID = "ACCESS_KEY_ID"
KEY_SECRET_ACCESS_KEY = "SECRET_ACCESS_KEY"
KEY_CIPHER_PASS = "CIPHER_PASS"
CA_DIR = "/projected/hlb-ca"
"""Where a private CA reaches pgBackRest: the Stanza has no CA field, but its `customEnvVar` sets
PGBACKREST_REPO<n>_STORAGE_CA_FILE, and the CNPG Cluster's `projectedVolumeTemplate` (mounted under /projected in
the postgres container) reaches the plugin's sidecar, which the dalibo plugin (v0.0.3) injects with every volume
mount of the postgres container. The check and drill Jobs mount the same ConfigMap at the same path."""


def _postgres(ds: Dataset) -> PostgresSource:
    if not isinstance(ds.source, PostgresSource):
        raise TypeError(f"{ds.name}: pgBackRest protects postgres datasets, not {ds.source.kind}")
    return ds.source


def _check_copy(ds: Dataset, copy: CopyPlan) -> None:
    if copy.dataset != ds.name or copy.tool != "pgbackrest":
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a pgBackRest copy of {ds.name!r}")
    if copy.kind == "nfs":
        raise ValueError(f"{copy.key}: pgBackRest repositories here are S3 buckets, not NFS exports")


def stanza_name(ds: Dataset) -> str:
    """The Stanza object (and PluginConfig) of a cluster: named after the dataset."""
    return object_name(ds.name)


def stanza_config_name(ds: Dataset) -> str:
    """The pgBackRest stanza itself (`--stanza`, the Stanza's `stanzaConfiguration.name`): the cluster's name."""
    return _postgres(ds).cluster


def plugin_config_name(ds: Dataset) -> str:
    """The PluginConfig the Cluster's plugin entry points at."""
    return object_name(ds.name)


def credentials_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """One Secret per repository: its bucket-scoped S3 key pair and its cipher passphrase."""
    return object_name(ds.name, copy.destination, "pgbackrest")


def reader_secret_name(ds: Dataset, copy: CopyPlan) -> str:
    """The read-only twin of the credentials Secret, for the integrity check and the restore drill."""
    return object_name(ds.name, copy.destination, "pgbackrest-ro")


def reader_secret(ds: Dataset, copy: CopyPlan) -> SecretSpec:
    """The check and drill jobs' Secret: the copy's read-only S3 key and the cipher passphrase (all references)."""
    return _repository_secret(ds, copy, reader_secret_name(ds, copy), READER_ACCESS_KEY_ID, READER_SECRET_ACCESS_KEY)


def s3_endpoint(endpoint: str) -> tuple[str, int | None]:
    """(host, port) for pgBackRest, which takes a bare host as its endpoint and speaks only HTTPS to S3."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"pgBackRest reaches S3 over HTTPS only; {endpoint!r} needs an https:// endpoint")
    return parts.hostname, parts.port


def credentials_secret(ds: Dataset, copy: CopyPlan) -> SecretSpec:
    """The Secret a Stanza repository reads its S3 keys and cipher passphrase from (all references)."""
    return _repository_secret(ds, copy, credentials_secret_name(ds, copy), ACCESS_KEY_ID, SECRET_ACCESS_KEY)


def _repository_secret(ds: Dataset, copy: CopyPlan, name: str, access_key_id: SecretRef,
                       secret_access_key: SecretRef) -> SecretSpec:
    """A repository Secret: one S3 key pair (the writer's or its read-only twin) and the cipher passphrase."""
    source = _postgres(ds)
    _check_copy(ds, copy)
    return SecretSpec(
        name=name,
        namespace=source.namespace,
        labels=labels(ds.name, ds.tier, copy.destination),
        data={
            KEY_ACCESS_KEY_ID: access_key_id,
            KEY_SECRET_ACCESS_KEY: secret_access_key,
            KEY_CIPHER_PASS: CIPHER_PASS,
        },
    )


def _repository(ds: Dataset, copy: CopyPlan) -> tuple[dict[str, Any], dict[str, str]]:
    """One `s3Repositories` entry and any environment it needs (a non-default port)."""
    pg = copy.pgbackrest
    if pg is None:
        raise ValueError(f"{copy.key}: the plan carries no pgBackRest schedule for this copy")
    host, port = s3_endpoint(copy.endpoint)
    secret = credentials_secret_name(ds, copy)
    entry = {
        "bucket": copy.bucket,
        "endpoint": host,
        "region": copy.region,
        # Path style works on every S3 server; virtual-host style needs wildcard DNS per bucket.
        "uriStyle": "path",
        "verifyTLS": True,
        "repoPath": "/" + copy.repository,
        "secretRef": {
            "accessKeyId": {"name": secret, "key": KEY_ACCESS_KEY_ID},
            "secretAccessKey": {"name": secret, "key": KEY_SECRET_ACCESS_KEY},
        },
        "retentionPolicy": {"full": pg.retention_full, "fullType": "count", "diff": pg.retention_diff},
        "cipherConfig": {"encryptionPass": {"name": secret, "key": KEY_CIPHER_PASS}, "type": CIPHER},
    }
    extra = {"STORAGE_PORT": str(port)} if port else {}
    if copy.private_ca:
        extra["STORAGE_CA_FILE"] = ca_file_path(copy)
    return entry, extra


def ca_file_path(copy: CopyPlan) -> str:
    """The destination's CA bundle inside the sidecar and the Jobs: one file per destination under CA_DIR."""
    return f"{CA_DIR}/{copy.destination}.crt"


def cluster_ca_sources(copies: Sequence[CopyPlan]) -> list[dict[str, Any]]:
    """The Cluster's `projectedVolumeTemplate.sources` entries that put each private CA where the Stanza says."""
    from manifests.volsync import CA_KEY, ca_config_map_name

    return [{"configMap": {"name": ca_config_map_name(copy),
                           "items": [{"key": CA_KEY, "path": ca_file_path(copy).removeprefix("/projected/")}]}}
            for copy in copies if copy.private_ca]


def merged_ca_sources(existing: Sequence[dict[str, Any]] | None,
                      ours: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Cluster's projected sources with ours in them (by ConfigMap name), the user's kept in their order."""
    names = {source["configMap"]["name"] for source in ours}
    kept = [dict(s) for s in existing or () if (s.get("configMap") or {}).get("name") not in names]
    return kept + [dict(s) for s in ours]


def repository_env(ds: Dataset, copy: CopyPlan, repo_index: int,
                   secret: str | None = None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """`PGBACKREST_REPO<n>_*` variables that open repository n the way the plugin's sidecar does.

    Derived from the same Stanza entry and credentials Secret, so a Job outside the cluster (integrity check,
    restore drill) reads the repository the backups wrote. Returns (plain values, Secret-referencing env entries).
    Retention is left out: these Jobs never expire anything. `secret` names the Secret holding the keys
    (default: the credentials Secret; the jobs pass `reader_secret_name`).
    """
    _check_copy(ds, copy)
    if repo_index < 1:
        raise ValueError(f"{copy.key}: pgBackRest repositories are numbered from 1, got {repo_index}")
    entry, extra = _repository(ds, copy)
    prefix = f"PGBACKREST_REPO{repo_index}_"
    plain = {
        "TYPE": "s3",
        "S3_BUCKET": entry["bucket"],
        "S3_ENDPOINT": entry["endpoint"],
        "S3_REGION": entry["region"],
        "S3_URI_STYLE": entry["uriStyle"],
        "STORAGE_VERIFY_TLS": "y" if entry["verifyTLS"] else "n",
        "PATH": entry["repoPath"],
        "CIPHER_TYPE": entry["cipherConfig"]["type"],
        **extra,
    }
    secret = secret or credentials_secret_name(ds, copy)
    from_secret = {"S3_KEY": KEY_ACCESS_KEY_ID, "S3_KEY_SECRET": KEY_SECRET_ACCESS_KEY, "CIPHER_PASS": KEY_CIPHER_PASS}
    secret_env = [{"name": prefix + option, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
                  for option, key in from_secret.items()]
    return {prefix + option: value for option, value in plain.items()}, secret_env


def stanza(ds: Dataset, dataset_plan: DatasetPlan, copies: Sequence[CopyPlan]) -> dict[str, Any]:
    """The cluster's pgBackRest stanza: repository n (1-based) is `copies[n - 1]`."""
    source = _postgres(ds)
    if dataset_plan.name != ds.name:
        raise ValueError(f"dataset plan {dataset_plan.name!r} does not describe {ds.name!r}")
    if not copies:
        raise ValueError(f"{ds.name}: a stanza needs at least one repository; give the dataset a destination")
    repositories = []
    env: dict[str, str] = {}
    for index, copy in enumerate(copies, start=1):
        _check_copy(ds, copy)
        entry, extra = _repository(ds, copy)
        repositories.append(entry)
        env.update({f"PGBACKREST_REPO{index}_{key}": value for key, value in extra.items()})
    configuration: dict[str, Any] = {"name": stanza_config_name(ds), "s3Repositories": repositories}
    if env:
        configuration["customEnvVar"] = env
    return {
        "apiVersion": API_VERSION,
        "kind": "Stanza",
        "metadata": metadata(stanza_name(ds), source.namespace, labels(ds.name, dataset_plan.tier)),
        "spec": {"stanzaConfiguration": configuration},
    }


def plugin_config(ds: Dataset) -> dict[str, Any]:
    """Sidecar settings: the pgBackRest exporter on, so backup age is visible to Prometheus."""
    source = _postgres(ds)
    return {
        "apiVersion": API_VERSION,
        "kind": "PluginConfig",
        "metadata": metadata(plugin_config_name(ds), source.namespace, labels(ds.name, ds.tier)),
        "spec": {
            # Requests only: a memory limit would kill a large backup halfway through.
            "resourcesRequirement": {"requests": {"cpu": "50m", "memory": "128Mi"}},
            "exporterConfig": {"enabled": True, "collectInterval": EXPORTER_INTERVAL_SECONDS},
        },
    }


def scheduled_backups(ds: Dataset, copy: CopyPlan, repo_index: int) -> list[dict[str, Any]]:
    """Weekly full and frequent differential base backups of one repository (CNPG cron has a seconds field)."""
    source = _postgres(ds)
    _check_copy(ds, copy)
    pg = copy.pgbackrest
    if pg is None:
        raise ValueError(f"{copy.key}: the plan carries no pgBackRest schedule for this copy")
    if repo_index < 1:
        raise ValueError(f"{copy.key}: pgBackRest repositories are numbered from 1, got {repo_index}")
    result = []
    for backup_type, cron in (("full", pg.full), ("diff", pg.diff)):
        result.append({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": metadata(
                object_name(ds.name, copy.destination, backup_type), source.namespace,
                labels(ds.name, ds.tier, copy.destination),
            ),
            "spec": {
                "schedule": cron.six_field(),
                "cluster": {"name": source.cluster},
                "method": "plugin",
                "pluginConfiguration": {
                    "name": PLUGIN_NAME,
                    "parameters": {"backupType": backup_type, "selectedRepository": str(repo_index)},
                },
                # Backup objects go away with their schedule instead of piling up in the namespace forever.
                "backupOwnerReference": "self",
            },
        })
    return result


def cluster_plugin_snippet(ds: Dataset, stanza_name: str) -> dict[str, Any]:
    """The Cluster `spec.plugins` entry (exported: the Cluster itself lives in the user's GitOps repository)."""
    _postgres(ds)
    return {
        "name": PLUGIN_NAME,
        "enabled": True,
        "isWALArchiver": True,
        "parameters": {"stanzaRef": stanza_name, "pluginConfigRef": plugin_config_name(ds)},
    }


def merged_plugins(existing: Sequence[dict[str, Any]] | None, snippet: dict[str, Any]) -> list[dict[str, Any]]:
    """The Cluster's `spec.plugins` with our entry in it: others kept as they are, in their order.

    CNPG declares `spec.plugins` an atomic list, so a server-side apply replaces it whole: applying only our entry
    would drop every plugin the user already lists. Our entry replaces the one of the same name, else is appended.
    """
    plugins = [dict(p) for p in existing or ()]
    for index, plugin in enumerate(plugins):
        if plugin.get("name") == snippet["name"]:
            plugins[index] = snippet
            return plugins
    return [*plugins, snippet]
