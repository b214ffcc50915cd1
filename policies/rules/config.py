"""The pack's configuration: one home for the tier requirements (design §4) and every other bound the rules apply.

Each policy declares the keys it reads (`schema(...)`), so `pulumi preview --policy-pack-config` files validate
against them and the engine fills their defaults. The rules deep-merge whatever arrives over the same defaults, so a
config that overrides one number of one tier keeps the rest. A policy's enforcement level is set in the same file:

    {"dataset-enforce-rpo": {"enforcementLevel": "advisory", "tiers": {"2": {"maxRpoHours": 48}}},
     "cost-enforce-monthly-budget": {"budgetUsdPerMonth": 12}, "schedule-enforce-staggered-starts": "disabled"}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema

LEVELS = ("hourly", "daily", "weekly", "monthly", "yearly")
LEVEL_DAYS: dict[str, float] = {"hourly": 1 / 24, "daily": 1.0, "weekly": 7.0, "monthly": 30.0, "yearly": 365.0}
ALERT_KINDS = ("out-of-sync", "missed-run", "never-ran")

TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "1": {
        "minCopies": 3, "minMedia": 2, "minLocalCopies": 0, "minOffsiteCopies": 1, "maxOffsiteCopies": None,
        "maxRpoHours": 12, "maxSiteLossRestoreHours": 8, "maxOffsiteRpoHours": 24,
        "minRetention": {"local": {"hourly": 24, "daily": 14, "monthly": 3}, "offsite": {"daily": 14, "monthly": 6}},
        "lockRequired": True, "drillEveryDays": 31, "checkEveryDays": 7, "alerts": list(ALERT_KINDS),
    },
    "2": {
        "minCopies": 2, "minMedia": 1, "minLocalCopies": 1, "minOffsiteCopies": 0, "maxOffsiteCopies": None,
        "maxRpoHours": 24, "maxOffsiteRpoHours": 24,
        "minRetention": {"local": {"daily": 7}, "offsite": {}},
        "lockRequired": False, "drillEveryDays": 0, "checkEveryDays": 31, "alerts": ["out-of-sync"],
    },
    "3": {
        "minCopies": 1, "minMedia": 1, "minLocalCopies": 1, "minOffsiteCopies": 0, "maxOffsiteCopies": 0,
        "maxRpoHours": 168, "maxOffsiteRpoHours": 168,
        "minRetention": {"local": {"daily": 1}, "offsite": {}},
        "lockRequired": False, "drillEveryDays": 0, "checkEveryDays": 0, "alerts": [],
    },
}
"""Design §4 and the program's TierBounds: copies incl. primary, media, local copies (a NAS dataset's own snapshots
count as its local copy), offsite copies, RPO ceiling, minimum points
kept per retention level (local and offsite copies), lock, verification cadence (0 = not required), alert kinds."""

_RETENTION_SCHEMA = {"type": "object", "additionalProperties": False,
                     "properties": {level: {"type": "integer", "minimum": 0} for level in LEVELS}}
_COUNT = {"type": "integer", "minimum": 0}
_TIER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "minCopies": {**_COUNT, "description": "Copies including the primary."},
        "minMedia": {**_COUNT, "description": "Distinct media (cluster-disk, nas-disk, object-storage)."},
        "minLocalCopies": {**_COUNT, "description": "Copies on the local network (NAS snapshots count for NAS data)."},
        "minOffsiteCopies": _COUNT,
        "maxOffsiteCopies": {"type": ["integer", "null"], "minimum": 0,
                             "description": "Offsite copies allowed without offsite_override_reason; null = any."},
        "maxRpoHours": {"type": "number", "exclusiveMinimum": 0},
        "maxOffsiteRpoHours": {"type": "number", "exclusiveMinimum": 0,
                               "description": "Oldest an offsite copy may be: the longest gap of a replication "
                                              "(Kopiur RepositoryReplication) copying the local repository offsite."},
        "maxSiteLossRestoreHours": {"type": "number", "exclusiveMinimum": 0,
                                    "description": "RTO after losing the site: the fastest offsite copy must restore "
                                                   "the dataset's size within it (absent: not checked)."},
        "minRetention": {"type": "object", "additionalProperties": False,
                         "properties": {"local": _RETENTION_SCHEMA, "offsite": _RETENTION_SCHEMA}},
        "lockRequired": {"type": "boolean", "description": "Offsite buckets of this tier need object lock."},
        "drillEveryDays": {**_COUNT, "description": "Longest gap between restore drills; 0 = none required."},
        "checkEveryDays": {**_COUNT, "description": "Longest gap between integrity checks; 0 = none required."},
        "alerts": {"type": "array", "items": {"enum": list(ALERT_KINDS)}, "uniqueItems": True},
    },
}

DEFAULTS: dict[str, Any] = {
    "tiers": TIER_DEFAULTS,
    "budgetUsdPerMonth": 30.0,
    "pricesUsdPerTbMonth": {},
    "kindPricesUsdPerTbMonth": {"b2": 6.0, "r2": 15.0, "s3": 23.0, "s3-compatible": 6.0},
    "minNoncurrentDays": 1,
    "maxAbortMultipartDays": 7,
    "forbiddenStorageClasses": ["ceph-filesystem"],
    "b2ManagementCapabilities": [
        "listKeys", "writeKeys", "deleteKeys", "writeBuckets", "deleteBuckets", "writeBucketEncryption",
        "writeBucketRetentions", "writeBucketReplications", "writeBucketNotifications", "bypassGovernance",
    ],
    "s3ManagementActions": [
        "s3:CreateBucket", "s3:DeleteBucket*", "s3:PutBucket*", "s3:PutLifecycleConfiguration",
        "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration", "s3:PutAccountPublicAccessBlock",
        "s3:BypassGovernanceRetention", "s3:DeleteObjectVersion", "s3:PutObjectLegalHold", "s3:PutObjectAcl",
        "s3:PutObjectVersionAcl", "iam:*", "sts:*", "kms:*",
    ],
    "restoreMbps": {},
    "kindRestoreMbps": {"nfs": 1000.0, "s3-compatible": 100.0, "b2": 100.0, "r2": 100.0, "s3": 100.0},
    "restoreOverheadHours": 0.005,
    "slotMinutes": 5,
    "healthchecksMarkers": ["hc-ping.com", "/ping/"],
    "healthchecksCovers": list(ALERT_KINDS),
    "sensitiveKeyPattern": r"(?i)(^key$|pass(word|phrase)?|secret|token|credential|private|salt|api[_-]?key"
                           r"|access[_-]?key|account[_-]?key|_key$)",
}
"""Every configurable value, with its default."""

SCHEMAS: dict[str, dict[str, Any]] = {
    "tiers": {"type": "object", "additionalProperties": False,
              "description": "Requirements per tier (keys '1', '2', '3'); partial objects override the defaults.",
              "properties": {t: _TIER_SCHEMA for t in TIER_DEFAULTS}},
    "budgetUsdPerMonth": {"type": "number", "minimum": 0,
                          "description": "Ceiling for the estimated monthly storage cost of all offsite copies."},
    "pricesUsdPerTbMonth": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0},
                            "description": "Price per destination name, when its buckets carry no price label."},
    "kindPricesUsdPerTbMonth": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0},
                                "description": "Fallback price per bucket kind (b2, r2, s3, s3-compatible)."},
    "minNoncurrentDays": {"type": "integer", "minimum": 1},
    "maxAbortMultipartDays": {"type": "integer", "minimum": 1},
    "forbiddenStorageClasses": {"type": "array", "items": {"type": "string"}},
    "b2ManagementCapabilities": {"type": "array", "items": {"type": "string"}},
    "s3ManagementActions": {"type": "array", "items": {"type": "string"},
                            "description": "IAM action patterns (fnmatch) a backup writer must not hold."},
    "restoreMbps": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                    "description": "Restore bandwidth (Mbit/s) per destination name, when the dataset declares none."},
    "kindRestoreMbps": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                        "description": "Fallback restore bandwidth per kind (offsite copies: a home downlink)."},
    "restoreOverheadHours": {"type": "number", "minimum": 0,
                             "description": "The restore tool's own time, added to the transfer (drills: <= 16 s)."},
    "slotMinutes": {"type": "integer", "minimum": 1, "maximum": 60},
    "healthchecksMarkers": {"type": "array", "items": {"type": "string"},
                            "description": "Substrings that identify a Healthchecks ping URL in a task script."},
    "healthchecksCovers": {"type": "array", "items": {"enum": list(ALERT_KINDS)}},
    "sensitiveKeyPattern": {"type": "string", "description": "Regex for keys that hold credentials."},
}


def schema(*keys: str) -> PolicyConfigSchema:
    """The config schema of a policy that reads `keys`, each carrying its default."""
    return PolicyConfigSchema(properties={k: {**SCHEMAS[k], "default": copy.deepcopy(DEFAULTS[k])} for k in keys})


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def settings(config: Mapping[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of `keys`: the defaults, deep-merged with what the policy's config provides."""
    config = config or {}
    return {k: _merge(DEFAULTS[k], config[k]) if k in config else copy.deepcopy(DEFAULTS[k]) for k in keys}


@dataclass(frozen=True)
class TierRequirements:
    """What one tier demands, typed."""

    tier: int
    min_copies: int
    min_media: int
    min_local: int
    min_offsite: int
    max_offsite: int | None
    max_rpo_hours: float
    max_site_loss_restore_hours: float | None
    max_offsite_rpo_hours: float | None
    min_retention: dict[str, dict[str, int]]
    lock_required: bool
    drill_every_days: int
    check_every_days: int
    alerts: tuple[str, ...]


def tier_requirements(values: Mapping[str, Any], tier: int) -> TierRequirements | None:
    """Requirements of `tier` from merged settings; None for a tier the config does not know."""
    raw = (values.get("tiers") or {}).get(str(tier))
    if raw is None:
        return None
    retention = raw.get("minRetention") or {}
    return TierRequirements(
        tier=tier,
        min_copies=int(raw.get("minCopies", 1)),
        min_media=int(raw.get("minMedia", 1)),
        min_local=int(raw.get("minLocalCopies", 0)),
        min_offsite=int(raw.get("minOffsiteCopies", 0)),
        max_offsite=None if raw.get("maxOffsiteCopies") is None else int(raw["maxOffsiteCopies"]),
        max_rpo_hours=float(raw.get("maxRpoHours", 24 * 365)),
        max_site_loss_restore_hours=None if raw.get("maxSiteLossRestoreHours") is None
        else float(raw["maxSiteLossRestoreHours"]),
        max_offsite_rpo_hours=None if raw.get("maxOffsiteRpoHours") is None else float(raw["maxOffsiteRpoHours"]),
        min_retention={side: {k: int(v) for k, v in (retention.get(side) or {}).items() if v}
                       for side in ("local", "offsite")},
        lock_required=bool(raw.get("lockRequired", False)),
        drill_every_days=int(raw.get("drillEveryDays", 0)),
        check_every_days=int(raw.get("checkEveryDays", 0)),
        alerts=tuple(raw.get("alerts") or ()),
    )
