"""Compliant fixtures every policy test starts from (one per resource kind, and one small estate), and the
helpers that run a policy the way the SDK does.

Resource fixtures are the *inputs* the engine hands resource policies; the estate is the *outputs* stack policies
see (for these resources, the same values). Secret values are `SecretStr`, as the pack sees engine secrets; a value
unknown during preview is the SDK's sentinel string. Every builder returns a fresh copy, free to mutate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.rules.support import kinds
from policies.rules.support.props import _SECRET_SIG, _SECRET_SIG_KEY, SecretStr

STACK = "prod"
PROJECT = "homelab-backups"
UNKNOWN = UNKNOWN_STRING_VALUE
"""What the engine sends for a value it cannot know during preview."""


# --------------------------------------------------------------------------------------------------------------------
# running policies like the SDK does
#
# The SDK's unknown-checking proxy rebuilds every dict and list it wraps, so a policy never sees (or changes) the
# fixture's own containers; the leaves are strings, numbers, booleans and None. A deep copy before it copied every
# resource twice (a third of the stack-rule linearity test's time).


@dataclass
class Outcome:
    """What one policy run produced."""

    messages: list[str] = field(default_factory=list)
    urns: list[str | None] = field(default_factory=list)
    not_applicable: str | None = None
    unknown: str | None = None
    """The SDK's preview message when the policy read an unknown value (it reports it as advisory)."""


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def _run(call: Callable[[Callable[..., None]], Any]) -> Outcome:
    outcome = Outcome()

    def report(message: str, urn: str | None = None) -> None:
        outcome.messages.append(message)
        outcome.urns.append(urn)

    try:
        call(report)
    except _NotApplicableError as exc:
        outcome.not_applicable = exc.reason
    except UnknownValueError as exc:
        outcome.unknown = exc.message
    return outcome


def run_resource(policy: Policy, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None,
                 provider: Mapping[str, Any] | None = None, name: str = "subject") -> Outcome:
    """Run a resource policy on one resource, its props wrapped in the SDK's unknown-checking proxy."""
    urn = f"urn:pulumi:{STACK}::{PROJECT}::{resource_type}::{name}"
    provider_resource = None
    if provider is not None:
        provider_urn = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:kubernetes::p"
        provider_resource = PolicyProviderResource("pulumi:providers:kubernetes",
                                                   unknown_checking_proxy(dict(provider)), provider_urn, "p")
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(dict(props)), urn, name,
                                  _options(), provider_resource, dict(config or {}))
    return _run(lambda report: policy.validate(args, report))  # type: ignore[attr-defined]


def run_stack(policy: Policy, resources: list[Node], config: Mapping[str, Any] | None = None) -> Outcome:
    """Run a stack policy over nodes, wired by parent as the SDK wires them."""
    return run_stack_args(policy, stack_args(resources, config))


def run_stack_args(policy: Policy, args: StackValidationArgs) -> Outcome:
    """Run a stack policy on arguments `stack_args` built (policies only read them: several may share one)."""
    return _run(lambda report: policy.validate(args, report))  # type: ignore[attr-defined]


def stack_args(resources: list[Node], config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    """What the SDK hands a stack policy: the nodes' props in its proxy, wired by parent."""
    built: dict[str, PolicyResource] = {}
    for node in resources:
        built[node.urn] = PolicyResource(node.type, unknown_checking_proxy(node.props), node.urn,
                                         node.name, _options(node.parent.urn if node.parent else None), None, None,
                                         [], {})
    for node in resources:
        if node.parent is not None and node.parent.urn in built:
            built[node.urn].parent = built[node.parent.urn]
    return StackValidationArgs(list(built.values()), dict(config or {}))


def _wire(value: Any) -> Any:
    """A fixture value as the engine sends it: secrets inside their envelope, unknowns as the sentinel string."""
    if isinstance(value, SecretStr):
        return {_SECRET_SIG_KEY: _SECRET_SIG, "value": str(value)}
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(_wire(props))
    return message


def analyze_requests(nodes: list[Node]) -> list[analyzer_pb2.AnalyzeRequest]:
    """One `Analyze` request per node, as the engine sends them to the pack."""
    return [analyzer_pb2.AnalyzeRequest(type=n.type, properties=_struct(n.props), urn=n.urn, name=n.name)
            for n in nodes]


def analyze_stack_request(nodes: list[Node]) -> analyzer_pb2.AnalyzeStackRequest:
    """The `AnalyzeStack` request for nodes, parents wired by URN as the engine wires them."""
    return analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=n.type, properties=_struct(n.props), urn=n.urn, name=n.name,
                                      parent=n.parent.urn if n.parent else "")
        for n in nodes])


def analyzer(policies: list[Policy]) -> _PolicyAnalyzerServicer:
    """The SDK's analyzer service over `policies`, as `PolicyPack` builds it (without the gRPC server)."""
    return _PolicyAnalyzerServicer("homelab-backups", "0.0.1", policies, EnforcementLevel.MANDATORY)


# --------------------------------------------------------------------------------------------------------------------
# resource fixtures (inputs)


def labels(dataset: str, tier: int, destination: str | None = None) -> dict[str, str]:
    result = {"backup.homelab/dataset": dataset, "backup.homelab/tier": str(tier)}
    if destination:
        result["backup.homelab/destination"] = destination
    result["app.kubernetes.io/managed-by"] = "homelab-backups"
    return result


def bucket_labels(tier: int, destination: str, offsite: bool, lock_days: int) -> dict[str, str]:
    return {"backup.homelab/tier": str(tier), "backup.homelab/destination": destination,
            "backup.homelab/offsite": str(offsite).lower(), "backup.homelab/lock-days": str(lock_days)}


def b2_bucket() -> dict[str, Any]:
    return {"bucket_name": "hlb-b2-tier1", "lifecycle": {"noncurrent_days": 15.0, "abort_multipart_days": 7.0},
            "lock_days": 14.0, "bucket_info": bucket_labels(1, "b2", True, 14),
            "auth": {"key_id": SecretStr("0051a2b3c4"), "key": SecretStr("K005-admin")}}


WRITER_CAPABILITIES = ["deleteFiles", "listAllBucketNames", "listBuckets", "listFiles", "readBucketEncryption",
                       "readFileRetentions", "readFiles", "writeFileRetentions", "writeFiles"]


def b2_key() -> dict[str, Any]:
    return {"key_name": "hlb-b2-tier1-vaultwarden-restic", "bucket_id": "4a5b6c7d8e9f", "name_prefix": "volsync/x/",
            "capabilities": list(WRITER_CAPABILITIES), "auth": {"key_id": SecretStr("0051"), "key": SecretStr("K0")}}


def s3c_bucket() -> dict[str, Any]:
    return {"bucket": "hlb-minio-tier1", "endpoint": "https://minio.lan", "region": "us-east-1",
            "capabilities": {"versioning": True, "lifecycle": True, "object_lock": True}, "versioning": True,
            "lifecycle": {"noncurrent_days": 15.0, "abort_multipart_days": 7.0}, "lock_days": 14.0,
            "tags": bucket_labels(1, "minio", True, 14),
            "credentials": {"access_key_id": SecretStr("AKIA"), "secret_access_key": SecretStr("s3cr3t")}}


def aws_public_access_block() -> dict[str, Any]:
    return {"bucket": "hlb-s3-tier1", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}


def aws_encryption() -> dict[str, Any]:
    return {"bucket": "hlb-s3-tier1", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                                                  "bucketKeyEnabled": True}]}


def aws_lifecycle() -> dict[str, Any]:
    return {"bucket": "hlb-s3-tier1", "rules": [{
        "id": "expire-noncurrent-and-abort-uploads", "status": "Enabled", "filter": {},
        "noncurrentVersionExpiration": {"noncurrentDays": 15.0},
        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7.0}}]}


def aws_lock() -> dict[str, Any]:
    return {"bucket": "hlb-s3-tier1", "objectLockEnabled": "Enabled",
            "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 14.0}}}


def aws_bucket() -> dict[str, Any]:
    return {"bucket": "hlb-s3-tier1", "objectLockEnabled": True,
            "tags": {k.replace("/", ":"): v for k, v in bucket_labels(1, "s3", True, 14).items()}}


def writer_policy(bucket: str = "hlb-s3-tier1", prefix: str = "volsync/security/vaultwarden-data") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": ["", prefix, f"{prefix}/*"]}}},
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:GetObjectVersion",
                                       "s3:PutObjectTagging"], "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*"}]}


def aws_user_policy() -> dict[str, Any]:
    return {"user": "hlb-s3-tier1-vaultwarden-restic", "policy": json.dumps(writer_policy())}


ACCOUNT = "0123456789abcdef0123456789abcdef"
R2_SCOPE = f"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_hlb-r2-tier1"


def r2_bucket() -> dict[str, Any]:
    return {"accountId": ACCOUNT, "name": "hlb-r2-tier1"}


def r2_lifecycle() -> dict[str, Any]:
    return {"accountId": ACCOUNT, "bucketName": "hlb-r2-tier1", "rules": [{
        "id": "abort-incomplete-multipart", "enabled": True, "conditions": {"prefix": ""},
        "abortMultipartUploadsTransition": {"condition": {"type": "Age", "maxAge": 604800.0}}}]}


def r2_lock() -> dict[str, Any]:
    """The lock rule the program declared on R2 buckets before the R2 lock drill; now a violation."""
    return {"accountId": ACCOUNT, "bucketName": "hlb-r2-tier1", "rules": [{
        "id": "retain-backups", "enabled": True, "prefix": "",
        "condition": {"type": "Age", "maxAgeSeconds": 14 * 86400.0}}]}


def api_token() -> dict[str, Any]:
    return {"name": "hlb-r2-tier1-vaultwarden-restic", "policies": [{
        "effect": "allow", "permissionGroups": [{"id": "f" * 32}, {"id": "e" * 32}],
        "resources": json.dumps({R2_SCOPE: "*"})}]}


def _meta(kind: str, name: str, namespace: str, object_labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": object_labels}


def replication_source(destination: str = "b2", nfs: bool = False) -> dict[str, Any]:
    """Restic to a bucket (daily, offsite retention), or with `nfs` to the NAS (6-hourly, local retention)."""
    mover: dict[str, Any] = {"repository": f"vaultwarden-{destination}-repo", "copyMethod": "Snapshot",
                             "cacheCapacity": "1Gi", "pruneIntervalDays": 7.0}
    if nfs:
        mover["moverVolumes"] = [{"mountPath": destination, "volumeSource": {"nfs": {"server": "citadel",
                                                                                       "path": "/mnt/tank/backups"}}}]
        mover["retain"] = {"hourly": 48.0, "daily": 30.0, "monthly": 6.0}
        schedule = "10 */6 * * *"
    else:
        mover["retain"] = {"daily": 30.0, "monthly": 12.0}
        schedule = "15 1 * * *" if destination == "b2" else "25 1 * * *"
    object_labels = labels("vaultwarden", 1, destination) | {"backup.homelab/storage-class": "ceph-block"}
    return {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
            "metadata": _meta("ReplicationSource", f"vaultwarden-{destination}", "security", object_labels),
            "spec": {"sourcePVC": "vaultwarden-data", "trigger": {"schedule": schedule}, "restic": mover}}


def kopia_source() -> dict[str, Any]:
    return {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
            "metadata": _meta("ReplicationSource", "grafana-nas", "monitoring", labels("grafana", 2, "nas")),
            "spec": {"sourcePVC": "grafana", "trigger": {"schedule": "20 2 * * *"}, "kopia": {
                "repository": "grafana-nas-repo", "copyMethod": "Snapshot",
                "moverVolumes": [{"mountPath": "nas", "volumeSource": {"nfs": {"server": "citadel", "path": "/mnt"}}}],
                "retain": {"hourly": 0.0, "daily": 14.0, "weekly": 4.0, "monthly": 3.0, "yearly": 0.0,
                           "latest": 1.0}}}}


def replication_destination(schedule: str | None = None) -> dict[str, Any]:
    """The manual restore, or with `schedule` a scratch-restore drill."""
    trigger = {"schedule": schedule} if schedule else {"manual": "restore-once"}
    name = "vaultwarden-nas-drill" if schedule else "vaultwarden-nas-restore"
    return {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationDestination",
            "metadata": _meta("ReplicationDestination", name, "security", labels("vaultwarden", 1, "nas")),
            "spec": {"trigger": trigger, "restic": {"repository": "vaultwarden-nas-repo", "copyMethod": "Direct",
                                                    "destinationPVC": name if schedule else "vaultwarden-data"}}}


def kopia_maintenance(destination: str = "b2", schedule: str = "40 3 * * *") -> dict[str, Any]:
    return {"apiVersion": "volsync.backube/v1alpha1", "kind": "KopiaMaintenance",
            "metadata": _meta("KopiaMaintenance", f"grafana-{destination}", "monitoring",
                              labels("grafana", 1, destination)),
            "spec": {"repository": {"repository": f"grafana-{destination}-repo"}, "trigger": {"schedule": schedule}}}


KOPIUR = "kopiur.home-operations.com/v1alpha1"


def kopiur_object(kind: str, name: str, destination: str, spec: dict[str, Any], **extra_labels: str) -> dict[str, Any]:
    """A Kopiur object of the tier-1 dataset `paperless` (namespace documents) serving one destination."""
    return {"apiVersion": KOPIUR, "kind": kind,
            "metadata": _meta(kind, name, "documents", labels("paperless", 1, destination) | extra_labels),
            "spec": spec}


def kopiur_policy(retention: dict[str, Any] | None = None) -> dict[str, Any]:
    """The NAS copy's SnapshotPolicy: the tier's local and offsite retention merged (its replicas mirror it)."""
    keep = retention if retention is not None else {"keepLatest": 1, "keepHourly": 48, "keepDaily": 30,
                                                    "keepWeekly": 0, "keepMonthly": 12, "keepAnnual": 0}
    return kopiur_object("SnapshotPolicy", "paperless-nas", "nas", {
        "repository": {"kind": "Repository", "name": "paperless-nas"}, "sources": [{"pvc": {"name": "paperless"}}],
        "copyMethod": "Snapshot", "retention": keep,
        "verification": {"quick": {"schedule": {"cron": "5 9 * * 3"}}}},
        **{"backup.homelab/storage-class": "ceph-block"})


def kopiur_schedule(cron: str = "5 */12 * * *", policy: str = "paperless-nas") -> dict[str, Any]:
    return kopiur_object("SnapshotSchedule", "paperless-nas", "nas",
                         {"policyRef": {"name": policy}, "schedule": {"cron": cron}})


def kopiur_repository() -> dict[str, Any]:
    return kopiur_object("Repository", "paperless-nas", "nas", {
        "backend": {"filesystem": {"path": "/repository", "volume": {"nfs": {
            "server": "citadel", "path": "/mnt/tank/backups/hlb-nas-tier1/kopiur/documents/paperless"}}}},
        "encryption": {"passwordSecretRef": {"name": "paperless-nas-repo", "key": "KOPIA_PASSWORD"}}})


def kopiur_replication(destination: str = "b2", cron: str = "50 2 * * *") -> dict[str, Any]:
    return kopiur_object("RepositoryReplication", f"paperless-{destination}", destination, {
        "sourceRef": {"kind": "Repository", "name": "paperless-nas"}, "schedule": {"cron": cron},
        "destination": {"s3": {"bucket": f"hlb-{destination}-tier1", "prefix": "kopiur/documents/paperless/"}}})


def kopiur_maintenance(destination: str = "b2", full: str = "35 4 * * *") -> dict[str, Any]:
    return kopiur_object("Maintenance", f"paperless-{destination}-maintenance", destination, {
        "repository": {"kind": "Repository", "name": f"paperless-{destination}"},
        "ownership": {"owner": "homelab-backups/documents/paperless"},
        "schedule": {"full": {"cron": full}, "quick": {"cron": "35 1,7,13,19 * * *"}}})


def scheduled_backup(destination: str = "b2", kind: str = "diff", schedule: str = "0 45 2,14 * * *",
                     repo: int = 1) -> dict[str, Any]:
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
            "metadata": _meta("ScheduledBackup", f"immich-db-{destination}-{kind}", "database",
                              labels("immich-db", 1, destination)),
            "spec": {"schedule": schedule, "cluster": {"name": "postgres18-immich"}, "method": "plugin",
                     "pluginConfiguration": {"name": "pgbackrest.dalibo.com",
                                             "parameters": {"backupType": kind, "selectedRepository": str(repo)}},
                     "backupOwnerReference": "self"}}


def stanza_repository(bucket: str, destination: str) -> dict[str, Any]:
    secret = f"immich-db-{destination}-pgbackrest"
    return {"bucket": bucket, "endpoint": "s3.us-east-005.backblazeb2.com", "region": "us-east-005",
            "uriStyle": "path", "verifyTLS": True, "repoPath": "/pgbackrest/database/postgres18-immich",
            "secretRef": {"accessKeyId": {"name": secret, "key": "ACCESS_KEY_ID"},
                          "secretAccessKey": {"name": secret, "key": "SECRET_ACCESS_KEY"}},
            "retentionPolicy": {"full": 53.0, "fullType": "count", "diff": 30.0},
            "cipherConfig": {"type": "aes-256-cbc", "encryptionPass": {"name": secret, "key": "CIPHER_PASS"}}}


def stanza() -> dict[str, Any]:
    return {"apiVersion": "pgbackrest.dalibo.com/v1", "kind": "Stanza",
            "metadata": _meta("Stanza", "immich-db", "database", labels("immich-db", 1)),
            "spec": {"stanzaConfiguration": {"name": "postgres18-immich", "s3Repositories": [
                stanza_repository("hlb-b2-tier1", "b2"), stanza_repository("hlb-r2-tier1", "r2")]}}}


def cronjob(name: str, object_labels: dict[str, str], schedule: str, env: list[dict[str, Any]] | None = None,
            namespace: str = "database") -> dict[str, Any]:
    container = {"name": "job", "image": "busybox", "command": ["true"], "env": env or []}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("CronJob", name, namespace, object_labels),
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [container], "restartPolicy": "Never"}}}}}}


def export_cronjob() -> dict[str, Any]:
    return cronjob("db-dump-export", labels("db-dump", 2, "photos"), "30 4 * * *",
                   env=[{"name": "HC_URL", "valueFrom": {"secretKeyRef": {
                       "name": "db-dump-healthchecks", "key": "backup-db-dump-export"}}}])


def prometheus_rule(datasets: Mapping[str, tuple[int, tuple[str, ...]]]) -> dict[str, Any]:
    groups = []
    for name, (tier, alert_kinds) in sorted(datasets.items()):
        rules = [{"alert": f"Alert-{kind}", "expr": "vector(1)", "labels": {
            "severity": "critical", "dataset": name, "tier": str(tier), "backup_alert": kind}}
            for kind in alert_kinds]
        groups.append({"name": f"homelab-backups.{name}", "rules": rules})
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "homelab-backups-tier1", "namespace": "monitoring",
                         "labels": {"backup.homelab/tier": "1", "app.kubernetes.io/managed-by": "homelab-backups"}},
            "spec": {"groups": groups}}


def external_secret() -> dict[str, Any]:
    return {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": _meta("ExternalSecret", "vaultwarden-b2-repo", "security", labels("vaultwarden", 1, "b2")),
            "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "onepassword"},
                     "data": [{"secretKey": "RESTIC_PASSWORD",
                               "remoteRef": {"key": "homelab-backups-vaultwarden-b2-repo",
                                             "property": "repository_password"}}],
                     "target": {"name": "vaultwarden-b2-repo", "template": {"data": {
                         "RESTIC_REPOSITORY": "s3:https://s3.us-east-005.backblazeb2.com/hlb-b2-tier1/volsync/x",
                         "AWS_SECRET_ACCESS_KEY": "{{ .secret_access_key }}"}}}}}


def k8s_secret() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": _meta("Secret", "vaultwarden-b2-repo", "security", labels("vaultwarden", 1, "b2")),
            "stringData": {"RESTIC_PASSWORD": SecretStr("correct horse"),
                           "RESTIC_REPOSITORY": SecretStr("s3:https://s3.example/hlb-b2-tier1/volsync/x")}}


def configmap() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta("ConfigMap", "backup-settings", "security", labels("vaultwarden", 1)),
            "data": {"RESTIC_REPOSITORY": "s3:https://s3.example/hlb-b2-tier1/volsync/x", "TZ": "Europe/Berlin"}}


CONNECTION = {"url": SecretStr("wss://citadel.internal/api/current"), "api_key": SecretStr("1-abcdef")}


def snapshot_task(level: str = "hourly") -> dict[str, Any]:
    settings = {
        "hourly": ({"minute": "0", "hour": "*"}, 48.0, "HOUR"),
        "daily": ({"minute": "40", "hour": "0"}, 30.0, "DAY"),
        "monthly": ({"minute": "50", "hour": "0", "dom": "1"}, 6.0, "MONTH"),
    }[level]
    schedule, lifetime, unit = settings
    return {"connection": dict(CONNECTION), "dataset": "storage0/photos", "recursive": False,
            "lifetime_value": lifetime, "lifetime_unit": unit, "naming_schema": f"hlb-{level}-%Y-%m-%d_%H-%M",
            "schedule": {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"} | schedule,
            "enabled": True}


def cloud_sync_task(bucket: str = "hlb-b2-tier1", hour: str = "3") -> dict[str, Any]:
    return {"connection": dict(CONNECTION), "description": f"photos -> {bucket}", "path": "/mnt/storage0/photos",
            "credentials": 7.0, "attributes": {"bucket": bucket, "folder": "truenas/storage0/photos"},
            "schedule": {"minute": "5", "hour": hour, "dom": "*", "month": "*", "dow": "*"},
            "direction": "PUSH", "transfer_mode": "SYNC", "encryption": True, "filename_encryption": True,
            "encryption_password": SecretStr("pass-phrase"), "encryption_salt": SecretStr("salt-phrase"),
            "snapshot": True, "pre_script": "", "post_script": "curl -fsS https://hc-ping.com/key/backup-photos-b2",
            "enabled": True, "offsite": True}


def nas_cron_job(target: str = "photos", hour: str = "2,14", ping: bool = True) -> dict[str, Any]:
    """The NAS configuration export's cron job (components/nas_config.py), writing into `target`."""
    command = "umask 077; d=/mnt/storage0/photos/nas-config; tar -cf ...; exit \"$s\""
    if ping:
        command = command.replace("; exit", "; curl -fsS https://hc-ping.com/key/backup-nas-config-export; exit")
    return {"connection": dict(CONNECTION), "command": SecretStr(command), "user": "root",
            "description": "homelab-backups nas-config: configuration export",
            "schedule": {"minute": "10", "hour": hour, "dom": "*", "month": "*", "dow": "*"},
            "enabled": True, "stdout": True, "stderr": False, "target_dataset": target}


def dump_with_reporter(dataset: str = "shop-db", tier: int = 1, target: str = "photos") -> dict[str, Any]:
    """A MySQL/MariaDB, MongoDB or Redis export CronJob (manifests/dbs.py): the dump as init container, the
    reporter pinging Healthchecks as the pod's container."""
    job = cronjob(f"{dataset}-export", labels(dataset, tier, target), "20 1,13 * * *",
                  env=[{"name": "HC_URL", "valueFrom": {"secretKeyRef": {
                      "name": f"{dataset}-healthchecks", "key": f"backup-{dataset}-export"}}}])
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "mariadb-dump", "image": "mariadb", "command": ["true"], "env": []}]
    return job


def cloud_credential() -> dict[str, Any]:
    return {"connection": dict(CONNECTION), "name": "hlb-b2-tier1-photos",
            "provider": {"type": "B2", "account": SecretStr("0051"), "key": SecretStr("K005")}}


def protected_dataset(name: str = "vaultwarden", tier: int = 1, source: str = "pvc", size_gb: float = 1.0,
                      reason: str | None = None) -> dict[str, Any]:
    return {"dataset": name, "tier": float(tier), "source": source, "size_gb": size_gb,
            "offsite_override_reason": reason}


# --------------------------------------------------------------------------------------------------------------------
# the estate (stack outputs)


@dataclass
class Node:
    """One resource of a fixture stack."""

    type: str
    name: str
    props: dict[str, Any]
    parent: Node | None = None
    provider: Node | None = None
    """An explicit provider (e.g. a Kubernetes provider rendering to a directory); None = the default one."""

    @property
    def urn(self) -> str:
        chain, parent = [self.type], self.parent
        while parent is not None:
            chain.append(parent.type)
            parent = parent.parent
        return f"urn:pulumi:{STACK}::{PROJECT}::{'$'.join(reversed(chain))}::{self.name}"


class Estate:
    """A small compliant estate: Tier 1 PVC, database and NAS datasets, a Tier 2 kopia PVC and export, a Tier 3
    NAS dataset; B2 and R2 buckets for Tier 1, an NFS share for local copies."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        b2 = self.b2_component = self.add("homelab-backups:buckets:B2Bucket", "hlb-b2-tier1", {})
        self.b2_bucket = self.add(kinds.B2_BUCKET, "hlb-b2-tier1-bucket", b2_bucket(), b2)
        r2 = self.r2_component = self.add("homelab-backups:buckets:R2Bucket", "hlb-r2-tier1",
                                          {"bucket": "hlb-r2-tier1", "labels": bucket_labels(1, "r2", True, 0)})
        self.r2_bucket = self.add(kinds.R2_BUCKET, "hlb-r2-tier1-bucket", r2_bucket(), r2)
        self.r2_lifecycle = self.add(kinds.R2_LIFECYCLE, "hlb-r2-tier1-lifecycle", r2_lifecycle(), r2)

        self.vaultwarden = self.dataset("vaultwarden", 1, "pvc", 1.0)
        volsync = self.add("homelab-backups:volsync:VolSyncBackup", "vaultwarden", {}, self.vaultwarden)
        self.vw_nas = self.add(kinds.REPLICATION_SOURCE, "vaultwarden-nas", replication_source("nas", nfs=True),
                               volsync)
        self.vw_b2 = self.add(kinds.REPLICATION_SOURCE, "vaultwarden-b2", replication_source("b2"), volsync)
        self.vw_r2 = self.add(kinds.REPLICATION_SOURCE, "vaultwarden-r2", replication_source("r2"), volsync)
        self.vw_drill = self.add(kinds.REPLICATION_DESTINATION, "vaultwarden-drill",
                                 replication_destination("50 4 12 * *"), volsync)
        self.vw_check = self.add(kinds.CRONJOB, "vaultwarden-check", cronjob(
            "vaultwarden-check", labels("vaultwarden", 1, "nas") | {"backup.homelab/verification": "check"},
            "0 5 * * 0", namespace="security"), volsync)

        self.immich_db = self.dataset("immich-db", 1, "postgres", 10.0)
        pg = self.add("homelab-backups:pgbackrest:PgBackRestBackup", "immich-db", {}, self.immich_db)
        self.stanza = self.add(kinds.STANZA, "immich-db-stanza", stanza(), pg)
        self.pg_b2_full = self.add(kinds.SCHEDULED_BACKUP, "immich-db-b2-full",
                                   scheduled_backup("b2", "full", "0 30 2 * * 0", 1), pg)
        self.pg_b2_diff = self.add(kinds.SCHEDULED_BACKUP, "immich-db-b2-diff",
                                   scheduled_backup("b2", "diff", "0 45 2,14 * * *", 1), pg)
        self.pg_r2_full = self.add(kinds.SCHEDULED_BACKUP, "immich-db-r2-full",
                                   scheduled_backup("r2", "full", "0 30 2 * * 1", 2), pg)
        self.pg_r2_diff = self.add(kinds.SCHEDULED_BACKUP, "immich-db-r2-diff",
                                   scheduled_backup("r2", "diff", "0 45 3,15 * * *", 2), pg)
        self.pg_drill = self.add(kinds.CRONJOB, "immich-db-drill", cronjob(
            "immich-db-drill", labels("immich-db", 1) | {"backup.homelab/verification": "drill"}, "0 6 3 * *"), pg)
        self.pg_check = self.add(kinds.CRONJOB, "immich-db-check", cronjob(
            "immich-db-check", labels("immich-db", 1) | {"backup.homelab/verification": "check"}, "0 6 * * 1"), pg)

        self.photos = self.dataset("photos", 1, "truenas", 500.0)
        self.snapshots = [self.add(kinds.SNAPSHOT_TASK, f"photos-{level}", snapshot_task(level), self.photos)
                          for level in ("hourly", "daily", "monthly")]
        self.sync_b2 = self.add(kinds.CLOUD_SYNC_TASK, "photos-b2", cloud_sync_task("hlb-b2-tier1", "3"), self.photos)
        self.sync_r2 = self.add(kinds.CLOUD_SYNC_TASK, "photos-r2", cloud_sync_task("hlb-r2-tier1", "4"), self.photos)
        self.photos_drill = self.add(kinds.CRONJOB, "photos-drill", cronjob(
            "photos-drill", labels("photos", 1) | {"backup.homelab/verification": "drill"}, "0 7 4 * *"), self.photos)
        self.photos_check = self.add(kinds.CRONJOB, "photos-check", cronjob(
            "photos-check", labels("photos", 1) | {"backup.homelab/verification": "check"}, "0 7 * * 2"), self.photos)

        self.grafana = self.dataset("grafana", 2, "pvc", 1.0)
        self.grafana_nas = self.add(kinds.REPLICATION_SOURCE, "grafana-nas", kopia_source(), self.grafana)
        self.grafana_check = self.add(kinds.CRONJOB, "grafana-check", cronjob(
            "grafana-check", labels("grafana", 2, "nas") | {"backup.homelab/verification": "check"}, "0 8 1 * *",
            namespace="monitoring"), self.grafana)

        self.db_dump = self.dataset("db-dump", 2, "export", 0.5)
        self.export = self.add(kinds.CRONJOB, "db-dump-dump", export_cronjob(), self.db_dump)

        self.media = self.dataset("media", 3, "truenas", 6000.0)
        media_snapshot = snapshot_task("daily") | {"dataset": "storage0/media", "lifetime_value": 7.0}
        media_snapshot["schedule"] = media_snapshot["schedule"] | {"minute": "25", "hour": "1"}
        self.media_snapshot = self.add(kinds.SNAPSHOT_TASK, "media-daily", media_snapshot, self.media)

        alerts = ("out-of-sync", "missed-run", "never-ran")
        owner = self.add("homelab-backups:alerts:BackupAlerts", "backup-alerts", {})
        self.alerts = self.add(kinds.PROMETHEUS_RULE, "homelab-backups-tier1", prometheus_rule(
            {"vaultwarden": (1, alerts), "immich-db": (1, alerts), "grafana": (2, ("out-of-sync",))}), owner)

    def add_kopiur(self) -> dict[str, Node]:
        """A tier-1 Kopiur dataset `paperless`: snapshots into the NAS repository, replicated to B2 and R2, with its
        maintenance, a drill and its alerts."""
        dataset = self.dataset("paperless", 1, "pvc", 2.0)
        owner = self.add("homelab-backups:kopiur:KopiurBackup", "paperless", {}, dataset)
        kopiur = "kubernetes:" + KOPIUR + ":"
        nodes = {
            "dataset": dataset,
            "repository": self.add(kopiur + "Repository", "paperless-nas", kopiur_repository(), owner),
            "policy": self.add(kopiur + "SnapshotPolicy", "paperless-nas", kopiur_policy(), owner),
            "schedule": self.add(kopiur + "SnapshotSchedule", "paperless-nas", kopiur_schedule(), owner),
            "maintenance": self.add(kopiur + "Maintenance", "paperless-nas-maintenance",
                                    kopiur_maintenance("nas"), owner),
            "b2": self.add(kopiur + "RepositoryReplication", "paperless-b2", kopiur_replication("b2"), owner),
            "r2": self.add(kopiur + "RepositoryReplication", "paperless-r2", kopiur_replication("r2", "55 3 * * *"),
                           owner),
            "drill": self.add(kinds.CRONJOB, "paperless-nas-drill-run", cronjob(
                "paperless-nas-drill-run", labels("paperless", 1, "nas") | {"backup.homelab/verification": "drill"},
                "5 11 9 * *", namespace="documents"), owner),
        }
        alerts = self.add(kinds.PROMETHEUS_RULE, "homelab-backups-kopiur-tier1", prometheus_rule(
            {"paperless": (1, ("out-of-sync", "missed-run", "never-ran"))}))
        nodes["alerts"] = alerts
        return nodes
    def add_nas_config(self, **settings: Any) -> Node:
        """The NAS's configuration export (tier 1) into `photos`, as components/nas_config.py declares it."""
        self.nas_config = self.dataset("nas-config", 1, "nas-config", 0.05)
        owner = self.add("homelab-backups:nas_config:NasConfigBackup", "nas-config", {}, self.nas_config)
        self.nas_cron = self.add(kinds.NAS_CRON_JOB, "nas-config-export", nas_cron_job(**settings), owner)
        return self.nas_config

    def add_db_export(self, dataset: str = "shop-db", tier: int = 1) -> Node:
        """A MariaDB export (manifests/dbs.py) into `photos`."""
        node = self.dataset(dataset, tier, "export", 1.0)
        owner = self.add("homelab-backups:exports:ExportJob", dataset, {}, node)
        self.db_export = self.add(kinds.CRONJOB, f"{dataset}-dump", dump_with_reporter(dataset, tier), owner)
        return node

    def add(self, resource_type: str, name: str, props: dict[str, Any], parent: Node | None = None,
            provider: Node | None = None) -> Node:
        node = Node(resource_type, name, props, parent, provider)
        self.nodes.append(node)
        return node

    def dataset(self, name: str, tier: int, source: str, size_gb: float) -> Node:
        return self.add(kinds.DATASET, name, protected_dataset(name, tier, source, size_gb))

    def remove(self, *nodes: Node) -> None:
        """Drop nodes (and their descendants)."""
        gone = {n.urn for n in nodes}
        changed = True
        while changed:
            changed = False
            for node in self.nodes:
                if node.urn not in gone and node.parent is not None and node.parent.urn in gone:
                    gone.add(node.urn)
                    changed = True
        self.nodes = [n for n in self.nodes if n.urn not in gone]
