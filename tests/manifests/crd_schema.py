"""Validate rendered objects against the upstream CRD schemas in `<repo>/../shared/crds`, offline.

`openAPIV3Schema` becomes a JSON Schema with one deliberate tightening: wherever a node lists `properties` (or
is an object with no schema for its members) and does not say `x-kubernetes-preserve-unknown-fields`, unknown
members are refused. The API server would silently prune them; here a typo fails the test instead.
Core kinds (CronJob, PersistentVolumeClaim, Secret) have no CRD: `CORE_SCHEMAS` checks their structure.
"""

from __future__ import annotations

import datetime
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HLB_SHARED_DIR") or os.environ.get("HOMELAB_BACKUPS_SHARED") or REPO.parent / "shared")
"""The shared reference data; `HLB_SHARED_DIR` points elsewhere (e.g. from a git worktree)."""
CRD_DIR = SHARED / "crds"

UPSTREAM_VOLSYNC = "volsync"
KOPIA_FORK = "volsync-kopia"

CRD_FILES: dict[tuple[str, str], tuple[str, ...]] = {
    ("volsync.backube/v1alpha1", "ReplicationSource"): (
        "volsync/volsync.backube_replicationsources.yaml",
        "volsync-kopia/volsync.backube_replicationsources.yaml",
    ),
    ("volsync.backube/v1alpha1", "ReplicationDestination"): (
        "volsync/volsync.backube_replicationdestinations.yaml",
        "volsync-kopia/volsync.backube_replicationdestinations.yaml",
    ),
    ("volsync.backube/v1alpha1", "KopiaMaintenance"): ("volsync-kopia/volsync.backube_kopiamaintenances.yaml",),
    ("pgbackrest.dalibo.com/v1", "Stanza"): ("pgbackrest-dalibo/pgbackrest.dalibo.com_stanzas.yaml",),
    ("pgbackrest.dalibo.com/v1", "PluginConfig"): ("pgbackrest-dalibo/pgbackrest.dalibo.com_pluginconfigs.yaml",),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): ("cnpg/postgresql.cnpg.io_scheduledbackups.yaml",),
    ("postgresql.cnpg.io/v1", "Cluster"): ("cnpg/postgresql.cnpg.io_clusters.yaml",),
    ("external-secrets.io/v1", "ExternalSecret"): ("external-secrets/external-secrets.io_externalsecrets.yaml",),
    ("monitoring.coreos.com/v1", "PrometheusRule"): (
        "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
    ),
    **{("kopiur.home-operations.com/v1alpha1", kind): (f"kopiur/{file}.yaml",) for kind, file in (
        ("Repository", "repositories"), ("ClusterRepository", "clusterrepositories"),
        ("SnapshotPolicy", "snapshotpolicies"), ("SnapshotSchedule", "snapshotschedules"),
        ("Snapshot", "snapshots"), ("Restore", "restores"), ("Maintenance", "maintenances"),
        ("RepositoryReplication", "repositoryreplications"), ("SnapshotReplication", "snapshotreplications"))},
}
"""Which CRD file(s) define each kind; VolSync kinds list the upstream file first and the kopia fork second."""

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"

OBJECT_META: dict[str, Any] = {
    "type": "object",
    "required": ["name", "labels"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63},
        "namespace": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63},
        "labels": {
            "type": "object",
            "propertyNames": {"pattern": LABEL_KEY, "maxLength": 317},
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE, "maxLength": 63},
        },
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
"""The ObjectMeta subset builders may set: the API server validates metadata itself, the CRDs do not."""


class CrdDataMissing(AssertionError):
    """The shared reference data is not where the tests expect it: a setup error, never a reason to skip."""


def _crd_path(relative: str) -> Path:
    path = CRD_DIR / relative
    if not path.is_file():
        raise CrdDataMissing(
            f"CRD reference file {path} is missing; the tests need the shared data checked out at {SHARED} "
            "(<repo>/../shared/crds)"
        )
    return path


@functools.cache
def load_crd(relative: str) -> dict[str, Any]:
    """The CustomResourceDefinition document stored at `crds/<relative>`."""
    with _crd_path(relative).open() as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if document.get("kind") != "CustomResourceDefinition":
        raise CrdDataMissing(f"{relative} is not a CustomResourceDefinition")
    return document


def crd_version_schema(relative: str, version: str) -> dict[str, Any]:
    """The raw `openAPIV3Schema` of one served version."""
    crd = load_crd(relative)
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version and entry.get("served", False):
            return entry["schema"]["openAPIV3Schema"]
    raise KeyError(f"{relative} serves no version {version!r}")


# ---------------------------------------------------------------------------------------------
# openAPIV3Schema -> JSON Schema

_PASS_THROUGH = (
    "enum", "pattern", "format", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
    "uniqueItems", "multipleOf", "minProperties", "maxProperties", "required",
)


def to_json_schema(node: dict[str, Any], structural: bool = True) -> dict[str, Any]:
    """Convert one OpenAPI v3 (Kubernetes structural) schema node; `structural=False` inside anyOf/oneOf/not."""
    out: dict[str, Any] = {key: node[key] for key in _PASS_THROUGH if key in node}
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(bound) is True and limit in out:
            out[bound] = out.pop(limit)
    if "properties" in node:
        out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(node["additionalProperties"])
    else:
        implicit = structural and not preserve and node.get("type") == "object" and "additionalProperties" not in node
        if implicit or node.get("additionalProperties") is False:
            out["additionalProperties"] = False
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            out[combinator] = [to_json_schema(sub, structural=False) for sub in node[combinator]]
    if "not" in node:
        out["not"] = to_json_schema(node["not"], structural=False)
    return out


def _object_schema(relative: str, api_version: str, kind: str) -> dict[str, Any]:
    version = api_version.split("/")[-1]
    schema = to_json_schema(crd_version_schema(relative, version))
    schema["properties"]["apiVersion"] = {"const": api_version}
    schema["properties"]["kind"] = {"const": kind}
    schema["properties"]["metadata"] = OBJECT_META
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata", "spec"})
    return schema


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("int32", raises=ValueError)
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64", raises=ValueError)
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        datetime.datetime.fromisoformat(value)
    return True


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """Every validation error as `path: message`, empty when the instance conforms."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    found = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]


@functools.cache
def _cached_object_schema(relative: str, api_version: str, kind: str) -> dict[str, Any]:
    return _object_schema(relative, api_version, kind)


def schemas_for(obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, schema) pairs an object must satisfy.

    Restic VolSync objects must fit both upstream and the kopia fork (users may run either); kopia ones only
    the fork, which alone defines `spec.kopia`.
    """
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    if key in CORE_SCHEMAS:
        return [(f"core {key[1]}", CORE_SCHEMAS[key])]
    if key not in CRD_FILES:
        raise KeyError(f"no schema registered for apiVersion={key[0]!r} kind={key[1]!r}")
    files = CRD_FILES[key]
    if key[0] == "volsync.backube/v1alpha1" and "kopia" in obj.get("spec", {}):
        files = tuple(f for f in files if f.startswith(KOPIA_FORK + "/"))
    return [(relative, _cached_object_schema(relative, *key)) for relative in files]


def validate(obj: dict[str, Any]) -> list[str]:
    """All problems of one object against every schema it must satisfy, each prefixed with the schema's source."""
    problems = []
    for label, schema in schemas_for(obj):
        problems += [f"[{label}] {message}" for message in errors(schema, obj)]
    return problems


def fragment_schema(relative: str, version: str, path: tuple[str, ...]) -> dict[str, Any]:
    """The converted schema of a nested field, e.g. the Cluster's `spec.plugins` item."""
    node = crd_version_schema(relative, version)
    for part in path:
        node = node["items"] if part == "[]" else node["properties"][part]
    return to_json_schema(node)


# ---------------------------------------------------------------------------------------------
# Core kinds (no CRD): the structure builders rely on, strict where builders write.

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_RESOURCES = {
    "type": "object",
    "required": ["requests", "limits"],
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": {"type": "string", "pattern": QUANTITY}},
        "limits": {"type": "object", "additionalProperties": {"type": "string", "pattern": QUANTITY}},
    },
}
_ENV = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
            "value": {"type": "string"},
            "valueFrom": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "secretKeyRef": {
                        "type": "object",
                        "required": ["name", "key"],
                        "additionalProperties": False,
                        "properties": {"name": {"type": "string", "pattern": DNS_LABEL}, "key": {"type": "string"}},
                    }
                },
            },
        },
        "oneOf": [{"required": ["value"]}, {"required": ["valueFrom"]}],
    },
}
_CONTAINER = {
    "type": "object",
    "required": ["name", "image", "command", "resources", "securityContext"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": DNS_LABEL},
        "image": {"type": "string", "pattern": r"^[^\s:]+(:[A-Za-z0-9_.-]+)$"},
        "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
        "command": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "env": _ENV,
        "envFrom": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["secretRef"],
                "additionalProperties": False,
                "properties": {
                    "secretRef": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {"name": {"type": "string", "pattern": DNS_LABEL}},
                    }
                },
            },
        },
        "resources": _RESOURCES,
        "securityContext": {
            "type": "object",
            "required": ["allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities"],
            "additionalProperties": False,
            "properties": {
                "allowPrivilegeEscalation": {"const": False},
                "readOnlyRootFilesystem": {"type": "boolean"},
                "capabilities": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"drop": {"const": ["ALL"]}},
                },
            },
        },
        "volumeMounts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "mountPath"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": DNS_LABEL},
                    "mountPath": {"type": "string", "pattern": "^/"},
                    "readOnly": {"type": "boolean"},
                },
            },
        },
    },
}
_VOLUME = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "minProperties": 2,
    "maxProperties": 2,
    "properties": {
        "name": {"type": "string", "pattern": DNS_LABEL},
        "emptyDir": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"sizeLimit": {"type": "string", "pattern": QUANTITY}},
        },
        "nfs": {
            "type": "object",
            "required": ["server", "path"],
            "additionalProperties": False,
            "properties": {
                "server": {"type": "string", "minLength": 1},
                "path": {"type": "string", "pattern": "^/"},
                "readOnly": {"type": "boolean"},
            },
        },
        "persistentVolumeClaim": {
            "type": "object",
            "required": ["claimName"],
            "additionalProperties": False,
            "properties": {"claimName": {"type": "string", "pattern": DNS_LABEL}, "readOnly": {"type": "boolean"}},
        },
    },
}
_POD_SECURITY = {
    "type": "object",
    "required": ["runAsNonRoot", "runAsUser"],
    "additionalProperties": False,
    "properties": {
        "runAsNonRoot": {"const": True},
        "runAsUser": {"type": "integer", "minimum": 1},
        "runAsGroup": {"type": "integer", "minimum": 0},
        "fsGroup": {"type": "integer", "minimum": 0},
        "supplementalGroups": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "seccompProfile": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {"type": {"enum": ["RuntimeDefault", "Localhost"]}},
        },
    },
}
_TEMPLATE_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"labels": OBJECT_META["properties"]["labels"]},
}
CRON_FIVE_FIELDS = r"^\S+ \S+ \S+ \S+ \S+$"

CRONJOB = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "batch/v1"},
        "kind": {"const": "CronJob"},
        "metadata": {**OBJECT_META, "properties": {
            **OBJECT_META["properties"], "name": {"type": "string", "pattern": DNS_LABEL, "maxLength": 52},
        }},
        "spec": {
            "type": "object",
            "required": ["schedule", "jobTemplate", "concurrencyPolicy"],
            "additionalProperties": False,
            "properties": {
                "schedule": {"type": "string", "pattern": CRON_FIVE_FIELDS},
                "timeZone": {"type": "string"},
                "concurrencyPolicy": {"enum": ["Allow", "Forbid", "Replace"]},
                "startingDeadlineSeconds": {"type": "integer", "minimum": 0},
                "successfulJobsHistoryLimit": {"type": "integer", "minimum": 0},
                "failedJobsHistoryLimit": {"type": "integer", "minimum": 0},
                "suspend": {"type": "boolean"},
                "jobTemplate": {
                    "type": "object",
                    "required": ["spec"],
                    "additionalProperties": False,
                    "properties": {
                        "metadata": _TEMPLATE_META,
                        "spec": {
                            "type": "object",
                            "required": ["template", "activeDeadlineSeconds"],
                            "additionalProperties": False,
                            "properties": {
                                "backoffLimit": {"type": "integer", "minimum": 0},
                                "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
                                "template": {
                                    "type": "object",
                                    "required": ["spec"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "metadata": _TEMPLATE_META,
                                        "spec": {
                                            "type": "object",
                                            "required": ["containers", "restartPolicy", "securityContext"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "restartPolicy": {"enum": ["Never", "OnFailure"]},
                                                "automountServiceAccountToken": {"type": "boolean"},
                                                "serviceAccountName": {"type": "string", "pattern": DNS_LABEL},
                                                "securityContext": _POD_SECURITY,
                                                "initContainers": {"type": "array", "items": _CONTAINER},
                                                "containers": {"type": "array", "minItems": 1, "items": _CONTAINER},
                                                "volumes": {"type": "array", "items": _VOLUME},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

PVC = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "v1"},
        "kind": {"const": "PersistentVolumeClaim"},
        "metadata": OBJECT_META,
        "spec": {
            "type": "object",
            "required": ["accessModes", "resources"],
            "additionalProperties": False,
            "properties": {
                "accessModes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]},
                },
                "storageClassName": {"type": "string", "pattern": DNS_LABEL},
                "resources": {
                    "type": "object",
                    "required": ["requests"],
                    "additionalProperties": False,
                    "properties": {
                        "requests": {
                            "type": "object",
                            "required": ["storage"],
                            "additionalProperties": False,
                            "properties": {"storage": {"type": "string", "pattern": QUANTITY}},
                        }
                    },
                },
            },
        },
    },
}

SECRET = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "type", "stringData"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "v1"},
        "kind": {"const": "Secret"},
        "metadata": OBJECT_META,
        "type": {"const": "Opaque"},
        "stringData": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[-._a-zA-Z0-9]+$", "maxLength": 253},
            "additionalProperties": {"type": "string"},
        },
    },
}

SERVICE_ACCOUNT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "additionalProperties": False,
    "properties": {"apiVersion": {"const": "v1"}, "kind": {"const": "ServiceAccount"}, "metadata": OBJECT_META},
}
_NAMES = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
ROLE = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "rules"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "rbac.authorization.k8s.io/v1"},
        "kind": {"const": "Role"},
        "metadata": OBJECT_META,
        "rules": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["apiGroups", "resources", "verbs"], "additionalProperties": False,
            "properties": {"apiGroups": {"type": "array", "items": {"type": "string"}}, "resources": _NAMES,
                           "resourceNames": _NAMES, "verbs": {
                               "type": "array", "minItems": 1, "items": {"enum": [
                                   "get", "list", "watch", "create", "update", "patch", "delete",
                                   "deletecollection"]}}}}},
    },
}
ROLE_BINDING = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "roleRef", "subjects"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "rbac.authorization.k8s.io/v1"},
        "kind": {"const": "RoleBinding"},
        "metadata": OBJECT_META,
        "roleRef": {"type": "object", "required": ["apiGroup", "kind", "name"], "additionalProperties": False,
                    "properties": {"apiGroup": {"const": "rbac.authorization.k8s.io"}, "kind": {"const": "Role"},
                                   "name": {"type": "string", "pattern": DNS_LABEL}}},
        "subjects": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["kind", "name", "namespace"], "additionalProperties": False,
            "properties": {"kind": {"const": "ServiceAccount"}, "name": {"type": "string", "pattern": DNS_LABEL},
                           "namespace": {"type": "string", "pattern": DNS_LABEL}}}},
    },
}

CORE_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("v1", "ServiceAccount"): SERVICE_ACCOUNT,
    ("rbac.authorization.k8s.io/v1", "Role"): ROLE,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ROLE_BINDING,
    ("batch/v1", "CronJob"): CRONJOB,
    ("v1", "PersistentVolumeClaim"): PVC,
    ("v1", "Secret"): SECRET,
}
