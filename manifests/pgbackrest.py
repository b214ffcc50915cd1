"""pgBackRest for CloudNativePG clusters through the dalibo CNPG-I plugin (`pgbackrest.dalibo.com`).

One Stanza per cluster with one S3 repository per destination (WAL goes to every repository; base backups pick
one with `selectedRepository`), a PluginConfig that enables the metrics exporter sidecar, ScheduledBackups in
CNPG's 6-field cron dialect, and the `spec.plugins` entry the user adds to the Cluster in their own repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from inventory.models import PostgresSource
from manifests.meta import metadata
from manifests.secrets import (
    ACCESS_KEY_ID,
    CIPHER_PASS,
    READER_ACCESS_KEY_ID,
    READER_SECRET_ACCESS_KEY,
    SECRET_ACCESS_KEY,
    SecretRef,
    SecretSpec,
)
from manifests.volsync import CA_KEY
from plan.model import CopyPlan
from plan.repositories import PGBACKREST_CA_DIR, PGBACKREST_CIPHER, PgBackRestRepository
from plan.units import ProtectionUnit

API_VERSION = "pgbackrest.dalibo.com/v1"
PLUGIN_NAME = "pgbackrest.dalibo.com"
CIPHER = PGBACKREST_CIPHER
EXPORTER_INTERVAL_SECONDS = 600

KEY_ACCESS_KEY_ID = "ACCESS_KEY_ID"
KEY_SECRET_ACCESS_KEY = "SECRET_ACCESS_KEY"
KEY_CIPHER_PASS = "CIPHER_PASS"
CA_DIR = PGBACKREST_CA_DIR
"""Where a private CA reaches pgBackRest (the plan decides the path: `PgBackRestRepository.ca_file`)."""
PROJECTED_DIR = "/projected"
"""Where CNPG mounts the Cluster's `projectedVolumeTemplate` in the postgres container (and so in the sidecar)."""


def _postgres(ds: ProtectionUnit) -> PostgresSource:
    if not isinstance(ds.source, PostgresSource):
        raise TypeError(f"{ds.name}: pgBackRest protects postgres datasets, not {ds.source.kind}")
    return ds.source


def _check_copy(ds: ProtectionUnit, copy: CopyPlan) -> None:
    if copy.dataset != ds.name or copy.tool != "pgbackrest":
        raise ValueError(f"copy {copy.key} ({copy.tool}) is not a pgBackRest copy of {ds.name!r}")
    if copy.kind == "nfs":
        raise ValueError(f"{copy.key}: pgBackRest repositories here are S3 buckets, not NFS exports")


def stanza_name(ds: ProtectionUnit) -> str:
    """The Stanza object (and PluginConfig) of a cluster: named after the dataset."""
    return ds.stanza or ""


def stanza_config_name(ds: ProtectionUnit) -> str:
    """The pgBackRest stanza itself (`--stanza`, the Stanza's `stanzaConfiguration.name`): the cluster's name."""
    return _postgres(ds).cluster


def plugin_config_name(ds: ProtectionUnit) -> str:
    """The PluginConfig the Cluster's plugin entry points at."""
    return ds.stanza or ""


def credentials_secret_name(ds: ProtectionUnit, copy: CopyPlan) -> str:
    """One Secret per repository: its bucket-scoped S3 key pair and its cipher passphrase."""
    _check_copy(ds, copy)
    return ds.copy_objects(copy.destination).repository_secret or ""


def reader_secret_name(ds: ProtectionUnit, copy: CopyPlan) -> str:
    """The read-only twin of the credentials Secret, for the integrity check and the restore drill."""
    _check_copy(ds, copy)
    return ds.copy_objects(copy.destination).reader_secret or ""


def reader_secret(ds: ProtectionUnit, copy: CopyPlan) -> SecretSpec:
    """The check and drill jobs' Secret: the copy's read-only S3 key and the cipher passphrase (all references)."""
    return _repository_secret(ds, copy, reader_secret_name(ds, copy), READER_ACCESS_KEY_ID, READER_SECRET_ACCESS_KEY)


def s3_endpoint(endpoint: str) -> tuple[str, int | None]:
    """(host, port) for pgBackRest, which takes a bare host as its endpoint and speaks only HTTPS to S3."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"pgBackRest reaches S3 over HTTPS only; {endpoint!r} needs an https:// endpoint")
    return parts.hostname, parts.port


def credentials_secret(ds: ProtectionUnit, copy: CopyPlan) -> SecretSpec:
    """The Secret a Stanza repository reads its S3 keys and cipher passphrase from (all references)."""
    return _repository_secret(ds, copy, credentials_secret_name(ds, copy), ACCESS_KEY_ID, SECRET_ACCESS_KEY)


def _repository_secret(ds: ProtectionUnit, copy: CopyPlan, name: str, access_key_id: SecretRef,
                       secret_access_key: SecretRef) -> SecretSpec:
    """A repository Secret: one S3 key pair (the writer's or its read-only twin) and the cipher passphrase."""
    source = _postgres(ds)
    _check_copy(ds, copy)
    return SecretSpec(
        name=name,
        namespace=source.namespace,
        labels=ds.copy_objects(copy.destination).labels,
        data={
            KEY_ACCESS_KEY_ID: access_key_id,
            KEY_SECRET_ACCESS_KEY: secret_access_key,
            KEY_CIPHER_PASS: CIPHER_PASS,
        },
    )


def _plan_repository(ds: ProtectionUnit, copy: CopyPlan) -> PgBackRestRepository:
    _check_copy(ds, copy)
    s3_endpoint(copy.endpoint)
    repo = ds.copy_objects(copy.destination).pgbackrest
    if repo is None:
        raise ValueError(f"{copy.key}: the plan carries no pgBackRest repository for this copy")
    return repo


def _repository(ds: ProtectionUnit, copy: CopyPlan) -> tuple[dict[str, Any], dict[str, str]]:
    """One `s3Repositories` entry and any environment it needs (a non-default port)."""
    repo = _plan_repository(ds, copy)
    entry = {
        "bucket": repo.bucket,
        "endpoint": repo.endpoint,
        "region": repo.region,
        "uriStyle": repo.uri_style,
        "verifyTLS": repo.verify_tls,
        "repoPath": repo.path,
        "secretRef": {
            "accessKeyId": {"name": repo.secret, "key": KEY_ACCESS_KEY_ID},
            "secretAccessKey": {"name": repo.secret, "key": KEY_SECRET_ACCESS_KEY},
        },
        "retentionPolicy": {"full": repo.retention_full, "fullType": repo.retention_full_type,
                            "diff": repo.retention_diff},
        "cipherConfig": {"encryptionPass": {"name": repo.secret, "key": KEY_CIPHER_PASS}, "type": repo.cipher_type},
    }
    extra = {"STORAGE_PORT": str(repo.port)} if repo.port else {}
    if repo.ca_file:
        extra["STORAGE_CA_FILE"] = repo.ca_file
    return entry, extra


def cluster_ca_sources(ds: ProtectionUnit) -> list[dict[str, Any]]:
    """The Cluster's `projectedVolumeTemplate.sources` entries that put each private CA where the Stanza says."""
    sources = []
    for copy in ds.copies:
        names, repo = ds.copy_objects(copy.destination), _plan_repository(ds, copy)
        if names.ca_config_map and repo.ca_file:
            sources.append({"configMap": {"name": names.ca_config_map, "items": [
                {"key": CA_KEY, "path": repo.ca_file.removeprefix(PROJECTED_DIR + "/")}]}})
    return sources


def merged_ca_sources(existing: Sequence[dict[str, Any]] | None,
                      ours: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Cluster's projected sources with ours in them (by ConfigMap name), the user's kept in their order."""
    names = {source["configMap"]["name"] for source in ours}
    kept = [dict(s) for s in existing or () if (s.get("configMap") or {}).get("name") not in names]
    return kept + [dict(s) for s in ours]


def ca_volume(ds: ProtectionUnit, copy: CopyPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, mounts) of a check or drill Job reading a private-CA copy: the destination's ConfigMap at the path
    the Stanza's `STORAGE_CA_FILE` names (the same as in the sidecar); ([], []) for a public CA."""
    names, repo = ds.copy_objects(copy.destination), _plan_repository(ds, copy)
    if not (names.ca_config_map and repo.ca_file):
        return [], []
    directory, file_name = repo.ca_file.rsplit("/", 1)
    return ([{"name": "ca", "configMap": {"name": names.ca_config_map, "items": [{"key": CA_KEY, "path": file_name}]}}],
            [{"name": "ca", "mountPath": directory, "readOnly": True}])


def repository_env(ds: ProtectionUnit, copy: CopyPlan, repo_index: int,
                   secret: str | None = None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """`PGBACKREST_REPO<n>_*` variables that open repository n the way the plugin's sidecar does.

    From the same plan record as the Stanza entry, so a Job outside the cluster (integrity check, restore drill)
    reads the repository the backups wrote. Returns (plain values, Secret-referencing env entries). Retention is
    left out: these Jobs never expire anything. `secret` names the Secret holding the keys (default: the
    credentials Secret; the jobs pass the read-only twin).
    """
    if repo_index < 1:
        raise ValueError(f"{copy.key}: pgBackRest repositories are numbered from 1, got {repo_index}")
    repo = _plan_repository(ds, copy)
    prefix = f"PGBACKREST_REPO{repo_index}_"
    plain = {
        "TYPE": "s3",
        "S3_BUCKET": repo.bucket,
        "S3_ENDPOINT": repo.endpoint,
        "S3_REGION": repo.region,
        "S3_URI_STYLE": repo.uri_style,
        "STORAGE_VERIFY_TLS": "y" if repo.verify_tls else "n",
        "PATH": repo.path,
        "CIPHER_TYPE": repo.cipher_type,
        **({"STORAGE_PORT": str(repo.port)} if repo.port else {}),
        **({"STORAGE_CA_FILE": repo.ca_file} if repo.ca_file else {}),
    }
    secret = secret or repo.secret
    from_secret = {"S3_KEY": KEY_ACCESS_KEY_ID, "S3_KEY_SECRET": KEY_SECRET_ACCESS_KEY, "CIPHER_PASS": KEY_CIPHER_PASS}
    secret_env = [{"name": prefix + option, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
                  for option, key in from_secret.items()]
    return {prefix + option: value for option, value in plain.items()}, secret_env


def stanza(ds: ProtectionUnit) -> dict[str, Any]:
    """The cluster's pgBackRest stanza: repository n (1-based) is the unit's copy n."""
    source = _postgres(ds)
    copies = ds.copies
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
        "metadata": metadata(stanza_name(ds), source.namespace, ds.labels),
        "spec": {"stanzaConfiguration": configuration},
    }


def plugin_config(ds: ProtectionUnit) -> dict[str, Any]:
    """Sidecar settings: the pgBackRest exporter on, so backup age is visible to Prometheus."""
    source = _postgres(ds)
    return {
        "apiVersion": API_VERSION,
        "kind": "PluginConfig",
        "metadata": metadata(plugin_config_name(ds), source.namespace, ds.labels),
        "spec": {
            # Requests only: a memory limit would kill a large backup halfway through.
            "resourcesRequirement": {"requests": {"cpu": "50m", "memory": "128Mi"}},
            "exporterConfig": {"enabled": True, "collectInterval": EXPORTER_INTERVAL_SECONDS},
        },
    }


def scheduled_backups(ds: ProtectionUnit, copy: CopyPlan, repo_index: int) -> list[dict[str, Any]]:
    """Weekly full and frequent differential base backups of one repository (CNPG cron has a seconds field)."""
    source = _postgres(ds)
    _check_copy(ds, copy)
    pg = copy.pgbackrest
    if pg is None:
        raise ValueError(f"{copy.key}: the plan carries no pgBackRest schedule for this copy")
    if repo_index < 1:
        raise ValueError(f"{copy.key}: pgBackRest repositories are numbered from 1, got {repo_index}")
    names = ds.copy_objects(copy.destination)
    assert names.scheduled_backups is not None  # the plan names both schedules of every pgBackRest copy
    result = []
    for backup_type, cron, name in (("full", pg.full, names.scheduled_backups[0]),
                                    ("diff", pg.diff, names.scheduled_backups[1])):
        result.append({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "ScheduledBackup",
            "metadata": metadata(name, source.namespace, names.labels),
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


def cluster_plugin_snippet(ds: ProtectionUnit, stanza_name: str) -> dict[str, Any]:
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
