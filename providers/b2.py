"""Backblaze B2 buckets and bucket-scoped application keys as Pulumi dynamic resources, on b2sdk.

pulumiverse-b2 cannot be installed here (design.md section 6), so this module drives B2's native API through
Backblaze's own SDK. Every provider method builds its client from `api_factory`, the one seam tests replace with
b2sdk's RawSimulator; nothing about the seam travels through resource inputs or state.

The engine's own import (`pulumi import`, the `import_` option) reads without the resource's properties, which a
dynamic provider cannot serve; adopt existing buckets and keys with `Bucket.get` / `ApplicationKey.get` instead.

Wire keys to `bucket.id` (the B2 bucket id), not to the `bucket_id` output: the engine keeps a resource id known
while previewing an in-place update, whereas outputs of a dynamic resource become unknown, and an unknown
`bucket_id` makes the key's diff propose a replacement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.dynamic.dynamic import PROVIDER_KEY

from providers import wire

if TYPE_CHECKING:
    from b2sdk.v2 import B2Api, BaseApplicationKey, BucketRetentionSetting, LifecycleRule
    from b2sdk.v2 import Bucket as B2Bucket

# b2sdk (0.3-0.5 s of imports, with requests) is imported by the functions that use it: the program only declares
# buckets and keys, and a preview's diff never reaches B2 (check reads b2sdk's list of capability names).

REALM = "production"
BUCKET_TYPE = "allPrivate"
ENCRYPTION: Mapping[str, str] = {"mode": "SSE-B2", "algorithm": "AES256"}
"""Default server-side encryption every bucket gets, in the form B2 reports it."""

KEY_ID_ENV = "B2_APPLICATION_KEY_ID"
KEY_ENV = "B2_APPLICATION_KEY"

MANAGEMENT_CAPABILITIES = frozenset(
    {
        "writeKeys",
        "deleteKeys",
        "listKeys",
        "writeBuckets",
        "deleteBuckets",
        "writeBucketEncryption",
        "writeBucketRetentions",
        "bypassGovernance",
        "writeFileLegalHolds",
    }
)
"""Capabilities that manage keys or buckets, lift a lock, or pin files forever (a legal hold never expires, so a
thief could make every backup undeletable and billed): a backup tool's key must never hold them."""

# Source: Backblaze's "Application Key Capabilities" page and its S3-compatible API notes, as collected in
# ../shared/reference/apis.md 4.2: deletes over S3 need both writeFiles and deleteFiles, and bucket-restricted keys
# used over S3 need listAllBucketNames. readBucketEncryption and readFileRetentions serve locked buckets (tools read
# the default encryption and a file's retention; neither changes anything). writeFileRetentions is left out: the
# bucket's default retention locks every upload without it, and a stolen key holding it could extend retention
# (undeletable, billed files); no tool here sets a per-file retention. apis.md marks the exact minimum per tool
# (restic, kopia, pgBackRest, rclone) as unverified against live B2; the README lists these sets as unverified.
WRITER_CAPABILITIES: tuple[str, ...] = (
    "listBuckets",
    "listAllBucketNames",
    "listFiles",
    "readFiles",
    "writeFiles",
    "deleteFiles",
    "readBucketEncryption",
    "readFileRetentions",
)
READER_CAPABILITIES: tuple[str, ...] = (
    "listBuckets",
    "listAllBucketNames",
    "listFiles",
    "readFiles",
    "readBucketEncryption",
)
"""The check and drill jobs' key: list and download only."""

KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,100}$")
LIFECYCLE_KEYS = ("noncurrent_days", "abort_multipart_days")

_HIDDEN_TO_DELETED = "daysFromHidingToDeleting"
_UPLOADED_TO_HIDDEN = "daysFromUploadingToHiding"
_UNFINISHED_TO_CANCELED = "daysFromStartingToCancelingUnfinishedLargeFiles"

_READ_BUCKETS = frozenset({"listBuckets", "readBucketEncryption", "readBucketRetentions"})
_WRITE_BUCKETS = _READ_BUCKETS | {"writeBuckets", "writeBucketEncryption"}
_CREDENTIALS_FIX = (
    f"pass auth={{'key_id': ..., 'key': ...}} as a Pulumi secret, or set {KEY_ID_ENV} and {KEY_ENV} "
    "for the pulumi process"
)


def production_api() -> B2Api:
    """A client for the real service that keeps its account info in memory, never in ~/.b2_account_info."""
    from b2sdk.v2 import B2Api, InMemoryAccountInfo, InMemoryCache

    return B2Api(InMemoryAccountInfo(), InMemoryCache())


api_factory: Callable[[], B2Api] = production_api
"""Builds the unauthorized client each provider call starts from. Tests point it at a RawSimulator."""


class B2ProviderError(pulumi.RunError):
    """A B2 failure restated for the person running `pulumi up`: which bucket or key, and the fix."""


# lifecycle: the plan's neutral form <-> B2 rules


def lifecycle_rules(lifecycle: Mapping[str, Any] | None) -> list[LifecycleRule]:
    """B2 rules for a neutral lifecycle: hidden versions expire, current ones never (no daysFromUploadingToHiding)."""
    if lifecycle is None:
        return []
    rule: LifecycleRule = {"fileNamePrefix": ""}
    noncurrent = wire.as_int(lifecycle.get("noncurrent_days"))
    if noncurrent is not None:
        rule["daysFromHidingToDeleting"] = noncurrent
    abort = wire.as_int(lifecycle.get("abort_multipart_days"))
    if abort is not None:
        rule["daysFromStartingToCancelingUnfinishedLargeFiles"] = abort
    return [rule]


def lifecycle_from_rules(rules: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The neutral form of a bucket's rules; rules it cannot express are kept under `unmanaged_rules` as drift."""
    managed: dict[str, Any] | None = None
    unmanaged: list[dict[str, Any]] = []
    for raw in rules:
        rule = {k: v for k, v in raw.items() if v is not None}
        ours = rule.get("fileNamePrefix", "") == "" and _UPLOADED_TO_HIDDEN not in rule
        if ours and managed is None:
            managed = rule
        else:
            unmanaged.append(rule)
    if managed is None and not unmanaged:
        return None
    managed = managed or {}
    result: dict[str, Any] = {
        "noncurrent_days": wire.as_int(managed.get(_HIDDEN_TO_DELETED)),
        "abort_multipart_days": wire.as_int(managed.get(_UNFINISHED_TO_CANCELED)),
    }
    if unmanaged:
        result["unmanaged_rules"] = unmanaged
    return result


def _lifecycle_view(value: Any) -> dict[str, Any] | None:
    """A lifecycle input or output in one comparable shape: the wire drops None members and turns ints to floats."""
    if not isinstance(value, Mapping):
        return None
    view: dict[str, Any] = {key: wire.as_int(value.get(key)) for key in LIFECYCLE_KEYS}
    if value.get("unmanaged_rules"):
        view["unmanaged_rules"] = value["unmanaged_rules"]
    return view


# small value helpers


# credentials and errors


@dataclass(frozen=True)
class _Credentials:
    key_id: str
    key: str = field(repr=False)
    source: str
    """Where they came from, for messages: never the values themselves."""


def _credentials(props: Mapping[str, Any]) -> _Credentials:
    auth = props.get("auth")
    if isinstance(auth, Mapping) and auth.get("key_id") and auth.get("key"):
        return _Credentials(str(auth["key_id"]), str(auth["key"]), "the `auth` input")
    key_id, key = os.environ.get(KEY_ID_ENV), os.environ.get(KEY_ENV)
    if key_id and key:
        return _Credentials(key_id, key, f"{KEY_ID_ENV}/{KEY_ENV}")
    raise B2ProviderError(f"no B2 credentials: {_CREDENTIALS_FIX}")


def _credential_failure(props: Mapping[str, Any]) -> CheckFailure | None:
    """Why the credentials cannot work, judged without contacting B2; None when they may."""
    auth = props.get("auth")
    if auth is None:
        if os.environ.get(KEY_ID_ENV) and os.environ.get(KEY_ENV):
            return None
        return CheckFailure("auth", f"no B2 credentials: {_CREDENTIALS_FIX}")
    if wire.has_unknowns(auth):
        return None
    if not isinstance(auth, Mapping) or set(auth) != {"key_id", "key"}:
        return CheckFailure("auth", "must be a mapping with exactly the keys `key_id` and `key`")
    if not all(isinstance(auth[k], str) and auth[k] for k in ("key_id", "key")):
        return CheckFailure("auth", "`key_id` and `key` must be non-empty strings")
    return None


@contextmanager
def _b2_errors(action: str, capability: str, creds: _Credentials) -> Iterator[None]:
    """Restate b2sdk errors raised while doing `action`, which needs `capability`; secrets never appear."""
    from b2sdk.v2.exception import B2Error, DuplicateBucketName, RestrictedBucket, Unauthorized

    try:
        yield
    except B2ProviderError:
        raise
    except DuplicateBucketName as err:
        raise B2ProviderError(
            f"cannot {action}: the name is taken. B2 bucket names are unique across all accounts; choose another "
            "bucket_name, or if the bucket is already yours, reference it with Bucket.get(resource_name, bucket name)"
        ) from err
    except RestrictedBucket as err:
        raise B2ProviderError(
            f"cannot {action}: the key from {creds.source} is restricted to another bucket ({err}); use an "
            f"unrestricted provisioning key: {_CREDENTIALS_FIX}"
        ) from err
    except Unauthorized as err:
        raise B2ProviderError(
            f"cannot {action}: B2 refused the key from {creds.source} ({err.code}). It needs the {capability} "
            f"capability and no bucket restriction; use a key that has them (e.g. the master key): {_CREDENTIALS_FIX}"
        ) from err
    except B2Error as err:
        raise B2ProviderError(f"cannot {action}: {err}") from err


def _authorized(props: Mapping[str, Any], action: str, needs: Iterable[str]) -> tuple[B2Api, _Credentials]:
    """A client logged in with the resource's credentials, refused early if they lack a capability `action` needs."""
    from b2sdk.v2.exception import B2Error, Unauthorized

    creds = _credentials(props)
    api = api_factory()
    try:
        api.authorize_account(REALM, creds.key_id, creds.key)
    except Unauthorized as err:
        raise B2ProviderError(
            f"cannot {action}: B2 rejected the credentials from {creds.source} (wrong key id or key, or the key was "
            f"deleted or expired); {_CREDENTIALS_FIX}"
        ) from err
    except B2Error as err:
        raise B2ProviderError(f"cannot {action}: B2 authorization failed: {err}") from err
    held = set(api.account_info.get_allowed()["capabilities"])
    missing = sorted(set(needs) - held)
    if missing:
        raise B2ProviderError(
            f"cannot {action}: the key from {creds.source} lacks {', '.join(missing)}; use a provisioning key with "
            f"them (e.g. the master key): {_CREDENTIALS_FIX}"
        )
    return api, creds


# buckets


def _check_bucket_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    problems = []
    if not 6 <= len(value) <= 63:
        problems.append(f"must be 6-63 characters long, not {len(value)}")
    if not re.fullmatch(r"[A-Za-z0-9-]*", value):
        problems.append("may contain only letters, digits and '-'")
    if value.lower().startswith("b2-"):
        problems.append("must not start with 'b2-' (reserved by Backblaze)")
    return "; ".join(problems) or None


def _check_lifecycle(value: Any) -> list[CheckFailure]:
    if value is None or (wire.has_unknowns(value) and not isinstance(value, Mapping)):
        return []
    if not isinstance(value, Mapping):
        return [CheckFailure("lifecycle", "must be a mapping {noncurrent_days, abort_multipart_days} or None")]
    failures = []
    extra = sorted(set(value) - set(LIFECYCLE_KEYS))
    if extra:
        failures.append(
            CheckFailure("lifecycle", f"unknown keys {', '.join(extra)}: allowed are {', '.join(LIFECYCLE_KEYS)}")
        )
    noncurrent = value.get("noncurrent_days")
    if noncurrent is not None and not wire.has_unknowns(noncurrent) and not (wire.as_int(noncurrent) or 0) > 0:
        failures.append(
            CheckFailure(
                "lifecycle.noncurrent_days",
                f"must be a positive whole number of days or None (keep hidden versions), not {noncurrent!r}",
            )
        )
    abort = value.get("abort_multipart_days")
    if not wire.has_unknowns(abort) and not (wire.as_int(abort) or 0) > 0:
        failures.append(
            CheckFailure(
                "lifecycle.abort_multipart_days",
                f"must be a positive whole number of days (7 is usual), not {abort!r}",
            )
        )
    return failures


def _check_bucket_info(value: Any) -> str | None:
    if value is None or wire.has_unknowns(value):
        return None
    if not isinstance(value, Mapping):
        return "must be a mapping of string labels"
    bad = sorted(
        str(k) for k, v in value.items() if not wire.has_unknowns(v) and not (isinstance(k, str) and isinstance(v, str))
    )
    return f"labels must be strings; fix {', '.join(bad)}" if bad else None


def _retention_days(bucket: B2Bucket) -> tuple[int, str | None]:
    """Default retention as (days, mode); B2 may state it in years, which counts as 365 days each."""
    from b2sdk.v2 import RetentionMode

    retention = bucket.default_retention
    if retention.mode not in (RetentionMode.GOVERNANCE, RetentionMode.COMPLIANCE) or retention.period is None:
        return 0, None
    factor = 365 if retention.period.unit == "years" else 1
    return int(retention.period.duration) * factor, retention.mode.value


def _bucket_outputs(bucket: B2Bucket, props: Mapping[str, Any]) -> dict[str, Any]:
    """What B2 holds for the bucket, in input shape where an input exists, so diff compares like with like."""
    lock_days, lock_mode = _retention_days(bucket)
    encryption = {"mode": bucket.default_server_side_encryption.mode.value}
    if bucket.default_server_side_encryption.algorithm is not None:
        encryption["algorithm"] = bucket.default_server_side_encryption.algorithm.value
    outs: dict[str, Any] = {
        "bucket_id": bucket.id_,
        "bucket_name": bucket.name,
        "account_id": bucket.bucket_dict.get("accountId") or bucket.api.get_account_id(),
        "bucket_type": bucket.type_,
        "bucket_info": dict(bucket.bucket_info),
        "lifecycle": lifecycle_from_rules(bucket.lifecycle_rules),
        "file_lock_enabled": bool(bucket.is_file_lock_enabled),
        "lock_days": lock_days,
        "lock_mode": lock_mode,
        "encryption": encryption,
    }
    if props.get("auth") is not None:
        outs["auth"] = props["auth"]
    return outs


def _bucket_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    inputs = {key: outs.get(key) for key in ("bucket_name", "lifecycle", "lock_days", "bucket_info")}
    if outs.get("auth") is not None:
        inputs["auth"] = outs["auth"]
    return inputs


def _find_bucket(api: B2Api, id_or_name: str) -> B2Bucket | None:
    """The bucket whose id, or failing that name, is `id_or_name`; None only when B2 lists no such bucket.

    One unfiltered listing (an account holds at most 100 buckets) avoids guessing which B2 error a malformed id
    produces: a transient failure must raise, never read as "gone", or a refresh would drop the bucket from state.
    """
    buckets = api.list_buckets()
    by_id = [bucket for bucket in buckets if bucket.id_ == id_or_name]
    by_name = [bucket for bucket in buckets if bucket.name.lower() == id_or_name.lower()]
    return next(iter(by_id or by_name), None)


def _governance(days: int) -> BucketRetentionSetting:
    from b2sdk.v2 import BucketRetentionSetting, RetentionMode, RetentionPeriod

    return BucketRetentionSetting(RetentionMode.GOVERNANCE, RetentionPeriod(days=days))


@wire.provisioned("auth", ("key_id", "key"))
class BucketProvider(ResourceProvider):
    """CRUD for `Bucket`: private, SSE-B2, lifecycle that never expires current versions, optional governance lock."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad property; unknown values (preview) are left for the real run to judge."""
        received, news = news, wire.reveal(news)
        failures = []
        name = news.get("bucket_name")
        if not wire.has_unknowns(name) and (reason := _check_bucket_name(name)):
            failures.append(CheckFailure("bucket_name", reason))
        failures.extend(_check_lifecycle(news.get("lifecycle")))
        lock_days = news.get("lock_days", 0)
        days = wire.as_int(lock_days)
        if not wire.has_unknowns(lock_days) and (days is None or days < 0):
            failures.append(
                CheckFailure("lock_days", f"must be a whole number of days, 0 for no lock, not {lock_days!r}")
            )
        if reason := _check_bucket_info(news.get("bucket_info")):
            failures.append(CheckFailure("bucket_info", reason))
        if failure := _credential_failure(news):
            failures.append(failure)
        return CheckResult(wire.keep_secrets(received, news), failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace for a new name or for turning the lock on or off (B2 fixes both at creation); update otherwise.

        `olds` are the last outputs, i.e. what B2 held at the last create, update or refresh, so drift shows here.
        """
        olds, news = wire.reveal(olds), wire.reveal(news)
        replaces: list[str] = []
        name, old_name = news.get("bucket_name"), olds.get("bucket_name")
        # B2 treats names case-insensitively, so a change of case alone names the same bucket.
        if wire.has_unknowns(name) or str(name).lower() != str(old_name).lower():
            replaces.append("bucket_name")

        lock_days = news.get("lock_days", 0)
        was_locked = olds.get("file_lock_enabled", (wire.as_int(olds.get("lock_days")) or 0) > 0)
        lock_changed = False
        if wire.has_unknowns(lock_days) or ((wire.as_int(lock_days) or 0) > 0) != was_locked:
            replaces.append("lock_days")
        elif (wire.as_int(lock_days) or 0) > 0:
            lock_changed = (
                wire.as_int(lock_days) != wire.as_int(olds.get("lock_days")) or olds.get("lock_mode") != "governance"
            )

        lifecycle = news.get("lifecycle")
        changed = (
            lock_changed
            or wire.has_unknowns(lifecycle)
            or _lifecycle_view(lifecycle) != _lifecycle_view(olds.get("lifecycle"))
            or wire.has_unknowns(news.get("bucket_info"))
            or dict(news.get("bucket_info") or {}) != dict(olds.get("bucket_info") or {})
            or wire.differs(olds.get("auth"), news.get("auth"))
            or olds.get("bucket_type") != BUCKET_TYPE
            or olds.get("encryption") != ENCRYPTION
        )
        return DiffResult(
            changes=bool(replaces) or changed,
            replaces=replaces,
            # The same name cannot exist twice, so a replacement that keeps it must delete first.
            delete_before_replace=bool(replaces) and "bucket_name" not in replaces,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the bucket, then set its default retention; if that fails, delete the bucket again."""
        from b2sdk.v2 import SSE_B2_AES
        from b2sdk.v2.exception import B2Error

        name = str(props["bucket_name"])
        lock_days = wire.as_int(props.get("lock_days")) or 0
        needs = _WRITE_BUCKETS | ({"writeBucketRetentions", "deleteBuckets"} if lock_days else set())
        api, creds = _authorized(props, f"create bucket {name!r}", needs)
        with _b2_errors(f"create bucket {name!r}", "writeBuckets", creds):
            bucket = api.create_bucket(
                name,
                BUCKET_TYPE,
                bucket_info=dict(props.get("bucket_info") or {}),
                lifecycle_rules=lifecycle_rules(props.get("lifecycle")),
                default_server_side_encryption=SSE_B2_AES,
                is_file_lock_enabled=lock_days > 0,
            )
        if lock_days:
            try:
                with _b2_errors(f"set the {lock_days}-day lock on new bucket {name!r}", "writeBucketRetentions", creds):
                    bucket = bucket.update(
                        bucket_type=BUCKET_TYPE,
                        default_retention=_governance(lock_days),
                        if_revision_is=bucket.revision,
                    )
            except B2ProviderError as err:
                try:
                    api.delete_bucket(bucket)
                except B2Error as cleanup:
                    raise B2ProviderError(
                        f"{err}. Deleting the half-made bucket {name!r} also failed ({cleanup}); delete it in the B2 "
                        "web console before retrying"
                    ) from err
                raise B2ProviderError(f"{err}. The new bucket was deleted again, so nothing was left behind") from err
        return CreateResult(bucket.id_, _bucket_outputs(bucket, props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Live state by bucket id, or by name when importing; an empty id tells the engine the bucket is gone."""
        api, creds = _authorized(props, f"read bucket {id_!r}", _READ_BUCKETS)
        with _b2_errors(f"read bucket {id_!r}", "listBuckets", creds):
            bucket = _find_bucket(api, id_)
        if bucket is None:
            return ReadResult("", {})
        outs = _bucket_outputs(bucket, props)
        return ReadResult(bucket.id_, outs, _bucket_inputs(outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rewrite every managed setting in one call, guarded by the revision just read."""
        from b2sdk.v2 import SSE_B2_AES
        from b2sdk.v2.exception import Conflict

        name = str(news["bucket_name"])
        lock_days = wire.as_int(news.get("lock_days")) or 0
        needs = _WRITE_BUCKETS | ({"writeBucketRetentions"} if lock_days else set())
        action = f"update bucket {name!r}"
        api, creds = _authorized(news, action, needs)
        with _b2_errors(action, "writeBuckets", creds):
            bucket = _find_bucket(api, id_)
            if bucket is None:
                raise B2ProviderError(
                    f"cannot {action}: bucket id {id_} no longer exists in B2; run `pulumi refresh` so Pulumi forgets "
                    "it, then `pulumi up` to create it again"
                )
            changes: dict[str, Any] = {}
            if lock_days:
                changes["default_retention"] = _governance(lock_days)
            try:
                bucket = bucket.update(
                    bucket_type=BUCKET_TYPE,
                    bucket_info=dict(news.get("bucket_info") or {}),
                    lifecycle_rules=lifecycle_rules(news.get("lifecycle")),
                    default_server_side_encryption=SSE_B2_AES,
                    if_revision_is=bucket.revision,
                    **changes,
                )
            except Conflict as err:
                raise B2ProviderError(
                    f"cannot {action}: someone changed it while Pulumi was updating it; run `pulumi up` again"
                ) from err
        return UpdateResult(_bucket_outputs(bucket, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the bucket; one that is already gone counts as deleted. B2 deletes only empty buckets."""
        from b2sdk.v2.exception import B2Error

        action = f"delete bucket {props.get('bucket_name', id_)!r}"
        api, creds = _authorized(props, action, {"listBuckets", "deleteBuckets"})
        with _b2_errors(action, "deleteBuckets", creds):
            bucket = _find_bucket(api, id_)
            if bucket is None:
                return
            try:
                api.delete_bucket(bucket)
            except B2Error as err:
                if _find_bucket(api, id_) is None:
                    return
                if "empty" in str(err).lower():
                    raise B2ProviderError(
                        f"cannot {action}: it still holds files and B2 deletes only empty buckets; delete every "
                        "file version first (locked versions only after their retention ends), or keep the bucket"
                    ) from err
                raise


# application keys

_KEY_IDENTITY = ("key_name", "bucket_id", "name_prefix", "capabilities")


def _key_identity(props: Mapping[str, Any], prop: str) -> Any:
    """A key property normalised for comparison: capability order and an empty prefix carry no meaning."""
    value = props.get(prop)
    if prop == "capabilities" and isinstance(value, list) and not wire.has_unknowns(value):
        return sorted(set(value))
    if prop == "name_prefix":
        return value or None
    return value


def _capability_failures(value: Any) -> list[CheckFailure]:
    if wire.has_unknowns(value) and not isinstance(value, list):
        return []
    if not isinstance(value, list) or not value:
        return [CheckFailure("capabilities", "must be a non-empty list of B2 capabilities, e.g. WRITER_CAPABILITIES")]
    failures = []
    for index, capability in enumerate(value):
        where = f"capabilities[{index}]"
        if wire.has_unknowns(capability):
            continue
        if not isinstance(capability, str):
            failures.append(CheckFailure(where, f"must be a capability name, not {capability!r}"))
        elif capability in MANAGEMENT_CAPABILITIES:
            failures.append(
                CheckFailure(
                    where,
                    f"{capability} lets the key manage keys or buckets or bypass a lock; backup credentials must not "
                    "hold it. Remove it (WRITER_CAPABILITIES is the set a backup tool needs)",
                )
            )
        elif capability not in WRITER_CAPABILITIES + READER_CAPABILITIES and capability not in _all_capabilities():
            failures.append(
                CheckFailure(where, f"{capability!r} is not a B2 capability; known ones: "
                                    f"{', '.join(_all_capabilities())}")
            )
    return failures


def _all_capabilities() -> list[str]:
    """b2sdk's list of capability names, read only for a name outside the sets above: a preview's check of the keys
    the program declares then needs no b2sdk (with requests, 0.3-0.5 s of imports in the provider process)."""
    from b2sdk.v2 import ALL_CAPABILITIES

    return ALL_CAPABILITIES


def _key_outputs(key: BaseApplicationKey, props: Mapping[str, Any], secret: str | None) -> dict[str, Any]:
    outs: dict[str, Any] = {
        "application_key_id": key.id_,
        "key_name": key.key_name,
        "bucket_id": key.bucket_id,
        "name_prefix": key.name_prefix,
        "capabilities": sorted(key.capabilities),
        "account_id": key.account_id,
    }
    if secret is not None:
        outs["application_key"] = secret
    if props.get("auth") is not None:
        outs["auth"] = props["auth"]
    return outs


@wire.provisioned("auth", ("key_id", "key"))
class ApplicationKeyProvider(ResourceProvider):
    """CRUD for `ApplicationKey`: B2 keys cannot be edited, so every property but `auth` replaces the key."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Refuse management capabilities and unscoped keys; unknown values (preview) pass."""
        received, news = news, wire.reveal(news)
        failures = []
        key_name = news.get("key_name")
        if not wire.has_unknowns(key_name) and not (isinstance(key_name, str) and KEY_NAME.fullmatch(key_name)):
            failures.append(CheckFailure("key_name", f"must be 1-100 letters, digits or '-', not {key_name!r}"))
        bucket_id = news.get("bucket_id")
        if not wire.has_unknowns(bucket_id) and not (isinstance(bucket_id, str) and bucket_id):
            failures.append(
                CheckFailure("bucket_id", "is required: backup keys are scoped to one bucket; pass the bucket's id")
            )
        prefix = news.get("name_prefix")
        if prefix is not None and not wire.has_unknowns(prefix) and not isinstance(prefix, str):
            failures.append(CheckFailure("name_prefix", f"must be a string or None, not {prefix!r}"))
        failures.extend(_capability_failures(news.get("capabilities")))
        if failure := _credential_failure(news):
            failures.append(failure)
        return CheckResult(wire.keep_secrets(received, news), failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Any change to what the key is, including an unknown new value, replaces it; new `auth` only updates."""
        olds, news = wire.reveal(olds), wire.reveal(news)
        replaces = [
            prop
            for prop in _KEY_IDENTITY
            if wire.has_unknowns(news.get(prop)) or _key_identity(news, prop) != _key_identity(olds, prop)
        ]
        return DiffResult(changes=bool(replaces) or wire.differs(olds.get("auth"), news.get("auth")), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the key; its secret is returned once, here, and kept only as a secret output."""
        key_name = str(props["key_name"])
        action = f"create application key {key_name!r} for bucket {props.get('bucket_id')}"
        api, creds = _authorized(props, action, {"writeKeys"})
        with _b2_errors(action, "writeKeys", creds):
            key = api.create_key(
                capabilities=list(props["capabilities"]),
                key_name=key_name,
                bucket_id=str(props["bucket_id"]),
                name_prefix=props.get("name_prefix") or None,
            )
        return CreateResult(key.id_, _key_outputs(key, props, key.application_key))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Live key by id. B2 never returns a key's secret again, so an imported key has no `application_key`."""
        api, creds = _authorized(props, f"read application key {id_}", {"listKeys"})
        with _b2_errors(f"read application key {id_}", "listKeys", creds):
            key = api.get_key(id_)
        if key is None:
            return ReadResult("", {})
        outs = _key_outputs(key, props, props.get("application_key"))
        inputs = {prop: outs.get(prop) for prop in _KEY_IDENTITY}
        if outs.get("auth") is not None:
            inputs["auth"] = outs["auth"]
        return ReadResult(key.id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only the provisioning credentials can change in place; the key itself is untouched."""
        outs = {k: v for k, v in olds.items() if k not in (PROVIDER_KEY, "auth")}
        if news.get("auth") is not None:
            outs["auth"] = news["auth"]
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the key; one that is already gone counts as deleted."""
        from b2sdk.v2.exception import B2Error

        action = f"delete application key {props.get('key_name', id_)!r} ({id_})"
        api, creds = _authorized(props, action, {"deleteKeys", "listKeys"})
        with _b2_errors(action, "deleteKeys", creds):
            try:
                api.delete_key_by_id(id_)
            except B2Error:
                if api.get_key(id_) is not None:
                    raise


# resources


@dataclass(frozen=True)
class BucketArgs:
    """Desired state of one backup bucket, as the plan decides it (BucketPlan's lifecycle, lock and labels)."""

    bucket_name: pulumi.Input[str]
    """Globally unique: 6-63 letters, digits or '-', not starting with 'b2-'."""
    lifecycle: pulumi.Input[Mapping[str, Any]] | None = None
    """{noncurrent_days: int | None, abort_multipart_days: int}; None leaves hidden versions and uploads alone."""
    lock_days: pulumi.Input[int] = 0
    """Default governance retention in days; 0 creates the bucket without file lock. Toggling replaces the bucket."""
    bucket_info: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    """Labels stored with the bucket, e.g. backup.homelab/tier."""
    auth: pulumi.Input[Mapping[str, str]] | None = None
    """Provisioning credentials {key_id, key}; None reads B2_APPLICATION_KEY_ID / B2_APPLICATION_KEY."""
    credentials_entry: str | None = None
    """Instead of `auth`: the stack's `credentials.<entry>` {key_id, key} the provider reads at each operation
    (provider configuration, so another key, e.g. a read-only one in a pull-request preview, changes nothing)."""


class Bucket(pulumi.dynamic.Resource, module="b2", name="Bucket"):
    """A private, SSE-B2 encrypted B2 bucket for backups, with a safe lifecycle and an optional governance lock."""

    bucket_id: pulumi.Output[str]
    """B2's id for the bucket (also the resource id)."""
    bucket_name: pulumi.Output[str]
    """The bucket's global name."""
    account_id: pulumi.Output[str]
    """The B2 account that owns the bucket."""
    bucket_type: pulumi.Output[str]
    """Always allPrivate; anything else read back is drift the next update reverts."""
    bucket_info: pulumi.Output[dict[str, str]]
    """Labels as B2 holds them."""
    lifecycle: pulumi.Output[dict[str, Any] | None]
    """Lifecycle read back in input form; rules this module does not write appear under `unmanaged_rules`."""
    lock_days: pulumi.Output[int]
    """Default retention read back, in days (0 = none)."""
    lock_mode: pulumi.Output[str | None]
    """Default retention mode read back: governance when this module set it."""
    file_lock_enabled: pulumi.Output[bool]
    """Whether file lock is on; fixed at creation."""
    encryption: pulumi.Output[dict[str, str]]
    """Default server-side encryption read back: {mode: SSE-B2, algorithm: AES256}."""

    def __init__(self, resource_name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "bucket_name": args.bucket_name,
            "lifecycle": args.lifecycle,
            "lock_days": args.lock_days,
            "bucket_info": args.bucket_info,
            "auth": wire.secret(args.auth),
            wire.CREDENTIALS_ENTRY: args.credentials_entry,
            **dict.fromkeys(("bucket_id", "account_id", "bucket_type", "lock_mode", "file_lock_enabled", "encryption")),
        }
        super().__init__(BucketProvider(), resource_name, props, wire.with_secret_outputs(opts, "auth"))

    @classmethod
    def get(
        cls,
        resource_name: str,
        bucket_id_or_name: pulumi.Input[str],
        auth: pulumi.Input[Mapping[str, str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> Bucket:
        """Read an existing bucket by id or name without managing it.

        The engine keeps the id it was given as the resource id, so after a lookup by name read B2's id from
        `bucket_id`, not `id`.
        """
        args = BucketArgs(bucket_name=bucket_id_or_name, auth=auth)
        return cls(
            resource_name, args, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=bucket_id_or_name))
        )


@dataclass(frozen=True)
class ApplicationKeyArgs:
    """One writer's credential: scoped to one bucket (and optionally a prefix), never able to manage keys or buckets."""

    key_name: pulumi.Input[str]
    """1-100 letters, digits or '-'; not unique in B2, so name it after the writer."""
    bucket_id: pulumi.Input[str]
    """The bucket the key is restricted to: pass `bucket.id`, which stays known while previewing bucket updates."""
    capabilities: pulumi.Input[list[str]] | tuple[str, ...] = WRITER_CAPABILITIES
    """What the key may do; management capabilities are refused."""
    name_prefix: pulumi.Input[str] | None = None
    """Restricts the key to file names starting with this prefix (the writer's repository path)."""
    auth: pulumi.Input[Mapping[str, str]] | None = None
    """Provisioning credentials {key_id, key}; None reads B2_APPLICATION_KEY_ID / B2_APPLICATION_KEY."""
    credentials_entry: str | None = None
    """Instead of `auth`: the stack's `credentials.<entry>` {key_id, key} the provider reads at each operation
    (provider configuration, so another key, e.g. a read-only one in a pull-request preview, changes nothing)."""


class ApplicationKey(pulumi.dynamic.Resource, module="b2", name="ApplicationKey"):
    """A bucket-scoped B2 application key for one backup writer; its secret exists only as a Pulumi secret."""

    application_key_id: pulumi.Output[str]
    """The key id (S3 access key id); also the resource id."""
    application_key: pulumi.Output[str]
    """The key's secret (S3 secret access key); a secret output, absent for imported keys."""
    key_name: pulumi.Output[str]
    """The key's name as B2 holds it."""
    bucket_id: pulumi.Output[str]
    """The bucket the key is restricted to."""
    name_prefix: pulumi.Output[str | None]
    """The file-name prefix the key is restricted to, if any."""
    capabilities: pulumi.Output[list[str]]
    """Capabilities as B2 granted them, sorted."""
    account_id: pulumi.Output[str]
    """The B2 account that owns the key."""

    def __init__(
        self, resource_name: str, args: ApplicationKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {
            "key_name": args.key_name,
            "bucket_id": args.bucket_id,
            "name_prefix": args.name_prefix,
            "capabilities": list(args.capabilities) if isinstance(args.capabilities, tuple) else args.capabilities,
            "auth": wire.secret(args.auth),
            wire.CREDENTIALS_ENTRY: args.credentials_entry,
            **dict.fromkeys(("application_key_id", "application_key", "account_id")),
        }
        opts = wire.with_secret_outputs(opts, "application_key", "auth")
        super().__init__(ApplicationKeyProvider(), resource_name, props, opts)

    @classmethod
    def get(
        cls,
        resource_name: str,
        application_key_id: pulumi.Input[str],
        auth: pulumi.Input[Mapping[str, str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> ApplicationKey:
        """Read an existing key by id; B2 never reveals its secret again, so `application_key` stays empty."""
        args = ApplicationKeyArgs(key_name="", bucket_id="", capabilities=[], auth=auth)
        return cls(
            resource_name, args, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=application_key_id))
        )
