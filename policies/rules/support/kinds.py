"""Resource type tokens the rules read, and the bucket settings each bucket kind spreads over its resources.

Property names are the engine's: snake_case for the project's dynamic providers, camelCase for bridged providers
(aws, cloudflare) and Kubernetes objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .props import LABEL_PREFIX, get, is_unknown, number, truthy

DATASET = "homelab-backups:inventory:ProtectedDataset"

B2_BUCKET = "pulumi-python:dynamic/b2:Bucket"
B2_KEY = "pulumi-python:dynamic/b2:ApplicationKey"
S3C_BUCKET = "pulumi-python:dynamic/s3compatible:Bucket"
AWS_BUCKET = "aws:s3/bucket:Bucket"
AWS_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
AWS_LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                 "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
AWS_LOCK = ("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
AWS_ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
AWS_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
AWS_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
AWS_ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
AWS_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
AWS_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
R2_BUCKET = "cloudflare:index/r2Bucket:R2Bucket"
R2_LIFECYCLE = "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle"
R2_LOCK = "cloudflare:index/r2BucketLock:R2BucketLock"
R2_MANAGED_DOMAIN = "cloudflare:index/r2ManagedDomain:R2ManagedDomain"
R2_CUSTOM_DOMAIN = "cloudflare:index/r2CustomDomain:R2CustomDomain"
CF_API_TOKEN = "cloudflare:index/apiToken:ApiToken"
CF_ACCOUNT_TOKEN = "cloudflare:index/accountToken:AccountToken"

BUCKETS = {B2_BUCKET: "b2", S3C_BUCKET: "s3-compatible", AWS_BUCKET: "s3", AWS_BUCKET_V2: "s3", R2_BUCKET: "r2"}
"""Bucket resource type -> destination kind."""
UNLOCKABLE_KINDS = {"r2": "R2 lock rules refuse the overwrites and deletes restic and pgBackRest make"}
"""Kinds whose buckets cannot hold a locked backup copy, with the reason. R2 has no versioning; its bucket lock
rules refuse overwriting and deleting young objects, and the R2 lock drill saw every pgBackRest backup and every
restic forget/prune fail under them."""

PVE_BACKUP_JOB = "pulumi-python:dynamic/proxmox:BackupJob"
PBS_SYNC_JOB = "pulumi-python:dynamic/proxmox:SyncJob"
PBS_SYNC_TOKEN = "pulumi-python:dynamic/proxmox:SyncToken"

_K8S = "kubernetes:"
REPLICATION_SOURCE = "kubernetes:volsync.backube/v1alpha1:ReplicationSource"
REPLICATION_DESTINATION = "kubernetes:volsync.backube/v1alpha1:ReplicationDestination"
KOPIA_MAINTENANCE = "kubernetes:volsync.backube/v1alpha1:KopiaMaintenance"
_KOPIUR = "kubernetes:kopiur.home-operations.com/v1alpha1:"
KOPIUR_REPOSITORY = _KOPIUR + "Repository"
KOPIUR_POLICY = _KOPIUR + "SnapshotPolicy"
KOPIUR_SCHEDULE = _KOPIUR + "SnapshotSchedule"
KOPIUR_MAINTENANCE = _KOPIUR + "Maintenance"
KOPIUR_REPLICATION = _KOPIUR + "RepositoryReplication"
KOPIUR_RESTORE = _KOPIUR + "Restore"
KOPIUR_KINDS = (KOPIUR_REPOSITORY, KOPIUR_POLICY, KOPIUR_SCHEDULE, KOPIUR_REPLICATION)
"""Kopiur (kopia operator) kinds the estate index reads to find a dataset's copies."""
STANZA = "kubernetes:pgbackrest.dalibo.com/v1:Stanza"
SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
CRONJOB = "kubernetes:batch/v1:CronJob"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SECRET = "kubernetes:core/v1:Secret"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
EXTERNAL_SECRETS = ("kubernetes:external-secrets.io/v1:ExternalSecret",
                    "kubernetes:external-secrets.io/v1beta1:ExternalSecret")

SNAPSHOT_TASK = "pulumi-python:dynamic/truenas:SnapshotTask"
CLOUD_SYNC_TASK = "pulumi-python:dynamic/truenas:CloudSyncTask"
CLOUD_CREDENTIAL = "pulumi-python:dynamic/truenas:CloudCredential"
NAS_CRON_JOB = "pulumi-python:dynamic/truenas:CronJob"
"""A NAS cron job; with `target_dataset` set, it exports into that dataset (the NAS configuration export)."""

MOVERS = ("restic", "kopia", "rclone", "rsync", "rsyncTLS", "syncthing", "external")
"""VolSync mover sections; exactly one is set on a ReplicationSource or ReplicationDestination."""


def mover(props: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(mover name, its spec) of a VolSync object, or None."""
    spec = get(props, "spec", default={})
    if not isinstance(spec, Mapping):
        return None
    for name in MOVERS:
        section = spec.get(name)
        if isinstance(section, Mapping):
            return name, dict(section)
    return None


def bucket_labels(resource_type: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """The backup.homelab/* labels a bucket resource carries (AWS tags spell the slash as a colon)."""
    if resource_type == B2_BUCKET:
        raw = props.get("bucket_info")
    elif resource_type == S3C_BUCKET or resource_type in (AWS_BUCKET, AWS_BUCKET_V2):
        raw = props.get("tags")
    else:
        raw = props.get("labels")
    if not isinstance(raw, Mapping):
        return {}
    colon = LABEL_PREFIX[:-1] + ":"
    result: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key.startswith(colon):
            key = LABEL_PREFIX + key[len(colon):]
        if key.startswith(LABEL_PREFIX) and (isinstance(value, str) or is_unknown(value)):
            result[key] = value  # an unknown label is present; reading it as a number or flag gives None
    return result


def bucket_name(resource_type: str, props: Mapping[str, Any]) -> Any:
    """The bucket's global name as declared (may be unknown)."""
    key = {B2_BUCKET: "bucket_name", S3C_BUCKET: "bucket", AWS_BUCKET: "bucket", AWS_BUCKET_V2: "bucket",
           R2_BUCKET: "name"}[resource_type]
    return props.get(key)


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule in neutral form: what it does to current objects, old versions and stale uploads (days)."""

    rule_id: str
    enabled: bool
    expire_current_days: float | None
    noncurrent_days: float | None
    abort_days: float | None


def _days(seconds: Any) -> float | None:
    value = number(seconds)
    return None if value is None else value / 86400


def lifecycle_rules(resource_type: str, props: Mapping[str, Any]) -> list[LifecycleRule] | None:
    """The lifecycle a resource declares, rule by rule; None when it declares none (the `lifecycle` input is null)."""
    if resource_type in (B2_BUCKET, S3C_BUCKET):
        neutral = props.get("lifecycle")
        rules: list[LifecycleRule] = []
        if isinstance(neutral, Mapping):
            current = next((neutral[k] for k in ("current_days", "expiration_days", "expire_days",
                                                  "days_from_uploading_to_hiding") if k in neutral), None)
            rules.append(LifecycleRule("lifecycle", True, number(current), number(neutral.get("noncurrent_days")),
                                       number(neutral.get("abort_multipart_days"))))
            rules.extend(_b2_raw(neutral.get("unmanaged_rules")))
        rules.extend(_s3_raw(props.get("lifecycle_rules")))
        return rules if rules or isinstance(neutral, Mapping) else None
    if resource_type in AWS_LIFECYCLE:
        result = []
        for index, rule in enumerate(props.get("rules") or []):
            if not isinstance(rule, Mapping):
                continue
            expiration = rule.get("expiration") or {}
            current = expiration.get("days") if isinstance(expiration, Mapping) else None
            if isinstance(expiration, Mapping) and expiration.get("date"):
                current = 0
            result.append(LifecycleRule(
                str(rule.get("id") or index), rule.get("status", "Enabled") == "Enabled", number(current),
                number(get(rule, "noncurrentVersionExpiration", "noncurrentDays")),
                number(get(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation"))))
        return result
    if resource_type == R2_LIFECYCLE:
        result = []
        for index, rule in enumerate(props.get("rules") or []):
            if not isinstance(rule, Mapping):
                continue
            delete = get(rule, "deleteObjectsTransition", "condition")
            current = None
            if isinstance(delete, Mapping):
                current = 0.0 if delete.get("type") == "Date" else _days(delete.get("maxAge"))
            result.append(LifecycleRule(
                str(rule.get("id") or index), truthy(rule.get("enabled")) is not False, current, None,
                _days(get(rule, "abortMultipartUploadsTransition", "condition", "maxAge"))))
        return result
    return None


def _b2_raw(rules: Any) -> list[LifecycleRule]:
    result = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, Mapping):
            result.append(LifecycleRule(
                f"b2-{index}", True, number(rule.get("daysFromUploadingToHiding")),
                number(rule.get("daysFromHidingToDeleting")),
                number(rule.get("daysFromStartingToCancelingUnfinishedLargeFiles"))))
    return result


def _s3_raw(rules: Any) -> list[LifecycleRule]:
    result = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, Mapping):
            result.append(LifecycleRule(
                str(rule.get("ID") or f"s3-{index}"), rule.get("Status", "Enabled") == "Enabled",
                number(get(rule, "Expiration", "Days")),
                number(get(rule, "NoncurrentVersionExpiration", "NoncurrentDays")),
                number(get(rule, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"))))
    return result


def lock_days(resource_type: str, props: Mapping[str, Any]) -> float | None:
    """Default lock period a resource configures, in days (inf = indefinite); None when it says nothing."""
    if resource_type in (B2_BUCKET, S3C_BUCKET):
        return number(props.get("lock_days"))
    if resource_type in AWS_LOCK:
        if props.get("objectLockEnabled", "Enabled") != "Enabled":
            return 0.0
        days = number(get(props, "rule", "defaultRetention", "days"))
        years = number(get(props, "rule", "defaultRetention", "years"))
        return days if days is not None else (years * 365 if years is not None else 0.0)
    if resource_type == R2_LOCK:
        periods = []
        for rule in props.get("rules") or []:
            if not isinstance(rule, Mapping) or truthy(rule.get("enabled")) is False:
                continue
            condition = rule.get("condition") or {}
            if condition.get("type") == "Indefinite":
                periods.append(float("inf"))
            elif condition.get("type") == "Age":
                periods.append(_days(condition.get("maxAgeSeconds")) or 0.0)
        return max(periods, default=0.0)
    return None
