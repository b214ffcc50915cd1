"""Backup buckets on S3-compatible servers (MinIO, Ceph RGW, Wasabi, ...) as a Pulumi dynamic provider on boto3.

Why not pulumi_aws: its read path calls bucket APIs that non-AWS servers answer with NotImplemented (ACL, lock,
tagging), so refresh and import fail. This provider calls only what the flavour's capability table says the server
implements, and tolerates NotImplemented where a feature is optional (tags).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from providers import wire
from providers.wire import boto_errors

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError



TYPE_TOKEN = "pulumi-python:dynamic/s3compatible:Bucket"
LIFECYCLE_RULE_ID = "homelab-backups"
"""ID of the one lifecycle rule this provider writes."""
LOCK_MODE = "GOVERNANCE"
DEFAULT_REGION = "us-east-1"

INPUT_KEYS = ("bucket", "endpoint", "region", "capabilities", "versioning", "lifecycle", "lock_days", "tags",
              "credentials")
READ_ONLY_OUTPUT_KEYS = ("versioning_status", "lifecycle_rules", "object_lock_enabled", "lock_mode")
CAPABILITY_KEYS = ("versioning", "lifecycle", "object_lock")

_ENDPOINT = re.compile(r"^https?://[^/\s]+/?$")
_BUCKET_CHARS = re.compile(r"^[a-z0-9.-]+$")
_NOT_ADOPTABLE = (
    "choose another bucket_prefix for the destination in the inventory, or, if the bucket is a leftover of this "
    "stack, check what it holds, delete it and run `pulumi up` again. `pulumi import` cannot adopt it (the engine "
    "reads without the dynamic provider); `Bucket.get` reads it without managing it"
)
"""What to do about a bucket that exists before the program creates it."""
_NOT_IMPLEMENTED = {"NotImplemented", "NotImplementedError", "XNotImplemented", "UnsupportedOperation"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "InvalidToken",
           "AuthorizationHeaderMalformed"}


class Capabilities(TypedDict):
    """Which bucket features the server flavour implements (from plan.capabilities.FLAVOUR_CAPABILITIES)."""

    versioning: bool
    lifecycle: bool
    object_lock: bool


class LifecycleSpec(TypedDict):
    """Neutral lifecycle: expire noncurrent versions and abort stale uploads; current objects are never expired."""

    noncurrent_days: int | None
    abort_multipart_days: int


class Credentials(TypedDict):
    """An S3 access key pair allowed to manage the bucket."""

    access_key_id: str
    secret_access_key: str


class S3CompatibleError(Exception):
    """A server refusal or failure, phrased with the bucket, the endpoint and the fix."""


def lifecycle_rules(lifecycle: Mapping[str, Any] | None, versioning: bool) -> list[dict[str, Any]]:
    """The S3 rules this provider writes for a neutral lifecycle: one whole-bucket rule, never a current expiry."""
    if lifecycle is None:
        return []
    rule: dict[str, Any] = {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        # {"Prefix": ""} rather than an empty Filter: older Ceph and MinIO releases reject <Filter/>.
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": lifecycle["abort_multipart_days"]},
    }
    if lifecycle.get("noncurrent_days"):
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": lifecycle["noncurrent_days"]}
    if versioning:
        # Only removes delete markers with no versions left behind them; current objects stay.
        rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    return [rule]


def _bucket_name_problem(name: Any) -> str | None:
    if not isinstance(name, str):
        return "must be a string"
    if not 3 <= len(name) <= 63:
        return f"must be 3-63 characters long, got {len(name)} ({name!r})"
    if not _BUCKET_CHARS.match(name):
        return f"may contain only lowercase letters, digits, dots and hyphens, got {name!r}"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return f"must start and end with a lowercase letter or digit, got {name!r}"
    if ".." in name or ".-" in name or "-." in name:
        return f"must not contain '..', '.-' or '-.', got {name!r}"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return f"must not look like an IP address, got {name!r}"


def _capabilities_problem(caps: Any) -> str | None:
    if not isinstance(caps, Mapping):
        return "must be a dict {versioning, lifecycle, object_lock} of booleans from the flavour table"
    bad = [k for k in CAPABILITY_KEYS if not wire.has_unknowns(caps.get(k)) and not isinstance(caps.get(k), bool)]
    if bad:
        return f"needs a boolean for {', '.join(bad)} (from the flavour table)"
    return None


def _lifecycle_problem(lifecycle: Any) -> str | None:
    if lifecycle is None:
        return None
    if not isinstance(lifecycle, Mapping):
        return "must be null or {noncurrent_days, abort_multipart_days}"
    extra = sorted(set(lifecycle) - {"noncurrent_days", "abort_multipart_days"})
    problems = [f"unknown key {k!r}" for k in extra]
    noncurrent = lifecycle.get("noncurrent_days")
    if noncurrent is not None and wire.known(noncurrent) and not (wire.is_int(noncurrent) and noncurrent > 0):
        problems.append(f"noncurrent_days must be a positive whole number of days or null, got {noncurrent!r}")
    abort = lifecycle.get("abort_multipart_days")
    if not wire.has_unknowns(abort) and not (wire.is_int(abort) and abort > 0):
        problems.append(f"abort_multipart_days must be a positive whole number of days, got {abort!r}")
    return "; ".join(problems) or None


def _tags_problem(tags: Any) -> str | None:
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        return "must be a dict of strings"
    if len(tags) > 50:
        return f"S3 allows at most 50 bucket tags, got {len(tags)}"
    for key, value in tags.items():
        if wire.has_unknowns(value):
            continue
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            return f"tag key {key!r} must be 1-128 characters"
        if not isinstance(value, str) or len(value) > 256:
            return f"tag {key!r} needs a string value of at most 256 characters"
    return None


def _credentials_problem(creds: Any) -> str | None:
    if not isinstance(creds, Mapping):
        return "must be {access_key_id, secret_access_key}"
    missing = [k for k in ("access_key_id", "secret_access_key")
               if not wire.has_unknowns(creds.get(k)) and not (isinstance(creds.get(k), str) and creds.get(k))]
    return f"needs a non-empty {' and '.join(missing)}" if missing else None


def _with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(props)
    out.setdefault("region", DEFAULT_REGION)
    out.setdefault("versioning", False)
    out.setdefault("lifecycle", None)
    # The engine carries every number as a double: 14 arrives as 14.0, which boto3 rejects for day counts.
    out["lock_days"] = wire.whole(out.get("lock_days", 0))
    if isinstance(out["lifecycle"], Mapping):
        out["lifecycle"] = wire.whole_numbers(out["lifecycle"])
    if out.get("tags") is None:
        out["tags"] = {}
    return out


def check_inputs(props: Mapping[str, Any]) -> list[CheckFailure]:
    """Validate known inputs: one failure per bad property, naming it; unknowns (preview) are skipped."""
    props = _with_defaults(wire.reveal(props))
    found: dict[str, list[str]] = {}

    def fail(prop: str, reason: str | None) -> None:
        if reason:
            found.setdefault(prop, []).append(reason)

    def known(prop: str) -> bool:
        return not wire.is_unknown(props.get(prop))

    if known("bucket"):
        fail("bucket", _bucket_name_problem(props.get("bucket")))
    endpoint = props.get("endpoint")
    if known("endpoint") and not (isinstance(endpoint, str) and _ENDPOINT.match(endpoint)):
        fail("endpoint", f"must be http(s)://host[:port] without a path, got {endpoint!r}")
    region = props.get("region")
    if known("region") and not (isinstance(region, str) and region.strip()):
        fail("region", f"must be a non-empty region name (e.g. {DEFAULT_REGION}), got {region!r}")
    if known("capabilities"):
        fail("capabilities", _capabilities_problem(props.get("capabilities")))
    if known("versioning") and not isinstance(props.get("versioning"), bool):
        fail("versioning", f"must be true or false, got {props.get('versioning')!r}")
    if known("lifecycle"):
        fail("lifecycle", _lifecycle_problem(props.get("lifecycle")))
    lock_days = props.get("lock_days")
    if known("lock_days") and not (wire.is_int(lock_days) and lock_days >= 0):
        fail("lock_days", f"must be a whole number of days >= 0 (0 = no lock), got {lock_days!r}")
    if known("tags"):
        fail("tags", _tags_problem(props.get("tags")))
    if known("credentials"):
        fail("credentials", _credentials_problem(props.get("credentials")))

    caps = props.get("capabilities")
    caps_ok = not wire.has_unknowns(caps) and "capabilities" not in found
    versioning = props.get("versioning") if known("versioning") and "versioning" not in found else None
    lifecycle = props.get("lifecycle")
    if caps_ok and versioning and not caps["versioning"]:
        fail("versioning", "the server flavour does not implement versioning (capabilities.versioning is false)")
    if caps_ok and isinstance(lifecycle, Mapping) and not caps["lifecycle"]:
        fail("lifecycle", "the server flavour does not implement lifecycle rules (capabilities.lifecycle is false); "
                          "pass null")
    if (isinstance(lifecycle, Mapping) and "lifecycle" not in found and wire.is_int(lifecycle.get("noncurrent_days"))
            and versioning is False):
        fail("lifecycle", "noncurrent_days needs versioning: without it there are no noncurrent versions to expire")
    if wire.is_int(lock_days) and lock_days > 0 and "lock_days" not in found:
        if caps_ok and not caps["object_lock"]:
            fail("lock_days", "the server flavour does not implement object lock (capabilities.object_lock is false); "
                              "use 0")
        if versioning is False:
            fail("lock_days", "object lock needs versioning: set versioning to true")
    return [CheckFailure(prop, "; ".join(found[prop])) for prop in INPUT_KEYS if prop in found]


def _client(props: Mapping[str, Any]) -> BaseClient:
    import boto3
    from botocore.config import Config

    creds = props["credentials"]
    config = Config(
        s3={"addressing_style": "path"},
        # Non-AWS servers reject or mangle the CRC checksums botocore >= 1.36 sends by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=props["endpoint"].rstrip("/"),
        region_name=props.get("region") or DEFAULT_REGION,
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=config,
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _not_implemented(exc: ClientError) -> bool:
    return _code(exc) in _NOT_IMPLEMENTED or _status(exc) == 501


def _gone(exc: ClientError) -> bool:
    return _code(exc) in {"NoSuchBucket", "404"} or (_status(exc) == 404 and _code(exc) in {"", "NotFound"})


def explain(exc: Exception, action: str, bucket: str, endpoint: str) -> S3CompatibleError:
    """Turn a boto3 failure into a message that names the bucket, the endpoint and what to do about it."""
    where = f"bucket '{bucket}' at {endpoint}"
    if isinstance(exc, boto_errors().ConnectionError | boto_errors().HTTPClientError):
        return S3CompatibleError(
            f"cannot reach the S3 endpoint {endpoint} to {action} {where}: check the endpoint URL and that the server "
            "is running and reachable (local stack: scripts/s3-server.sh start)")
    if not isinstance(exc, boto_errors().ClientError):
        return S3CompatibleError(f"could not {action} {where}: {exc}")
    code, status = _code(exc), _status(exc)
    message = exc.response.get("Error", {}).get("Message") or ""
    detail = f"{code or status}{': ' + message if message else ''}"
    if code == "BucketAlreadyOwnedByYou":
        return S3CompatibleError(
            f"{where} already exists and belongs to these credentials, and it is never taken over silently: "
            f"{_NOT_ADOPTABLE}")
    if code == "BucketAlreadyExists":
        return S3CompatibleError(
            f"the name of {where} is taken by another account (names are global on many servers): choose another "
            "bucket name in the inventory")
    if code in _DENIED or status == 403:
        return S3CompatibleError(
            f"access denied when trying to {action} {where} ({detail}): check that the access key exists on this "
            "server, the secret matches, the key may manage this bucket, and the region matches the server's")
    if code in _NOT_IMPLEMENTED or status == 501:
        return S3CompatibleError(
            f"the server at {endpoint} does not implement the call needed to {action} {where} ({detail}): set the "
            "destination's flavour to one whose capability table matches this server")
    if code in {"InvalidLocationConstraint", "IllegalLocationConstraintException"}:
        return S3CompatibleError(
            f"the server refused the region while trying to {action} {where} ({detail}): set the destination's "
            "region to the one the server is configured with")
    if _gone(exc):
        return S3CompatibleError(
            f"{where} does not exist (any more) while trying to {action} it: run `pulumi refresh` so Pulumi "
            "recreates it")
    return S3CompatibleError(f"the server refused to {action} {where} ({detail})")


@contextmanager
def _server_errors(action: str, bucket: str, endpoint: str) -> Iterator[None]:
    try:
        yield
    except (boto_errors().ClientError, boto_errors().BotoCoreError) as exc:
        raise explain(exc, action, bucket, endpoint) from exc


def _normal_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rule.items() if v is not None and k != "Prefix"}
    filt = dict(rule.get("Filter") or {})
    if not filt:
        filt = {"Prefix": rule.get("Prefix") or ""}
    out["Filter"] = filt
    if out.get("Expiration") == {"ExpiredObjectDeleteMarker": False}:
        del out["Expiration"]
    return out


def _normal_rules(rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return sorted((_normal_rule(r) for r in rules), key=lambda r: str(r.get("ID", "")))


def _neutral_lifecycle(rules: list[dict[str, Any]], versioning: bool) -> dict[str, Any] | None:
    if len(rules) != 1:
        return None
    rule = rules[0]
    abort = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
    if abort is None:
        return None
    neutral = {"noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
               "abort_multipart_days": abort}
    return neutral if lifecycle_rules(neutral, versioning) == rules else None


def _bucket_exists(client: BaseClient, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
    except boto_errors().ClientError as exc:
        if _gone(exc):
            return False
        raise
    return True


def _read_versioning(client: BaseClient, bucket: str) -> str:
    try:
        status = client.get_bucket_versioning(Bucket=bucket).get("Status")
    except boto_errors().ClientError as exc:
        if _not_implemented(exc):
            return "Disabled"
        raise
    return status or "Disabled"


def _read_lifecycle(client: BaseClient, bucket: str) -> list[dict[str, Any]]:
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except boto_errors().ClientError as exc:
        if _code(exc) == "NoSuchLifecycleConfiguration" or _not_implemented(exc):
            return []
        raise
    return _normal_rules(rules)


def _read_lock(client: BaseClient, bucket: str) -> tuple[bool, int, str | None]:
    try:
        config = client.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except boto_errors().ClientError as exc:
        if _code(exc) in {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}:
            return False, 0, None
        if _not_implemented(exc):
            return False, 0, None
        raise
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    days = retention.get("Days") or 365 * (retention.get("Years") or 0)
    return config.get("ObjectLockEnabled") == "Enabled", int(days), retention.get("Mode")


def _read_tags(client: BaseClient, bucket: str, declared: Mapping[str, str]) -> dict[str, str]:
    try:
        tag_set = client.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except boto_errors().ClientError as exc:
        if _code(exc) == "NoSuchTagSet":
            return {}
        if _not_implemented(exc):
            return dict(declared)
        raise
    return {t["Key"]: t["Value"] for t in tag_set}


_PROBE_ALL: Capabilities = {"versioning": True, "lifecycle": True, "object_lock": True}


def _read_state(client: BaseClient, props: Mapping[str, Any], bucket: str) -> dict[str, Any] | None:
    """Outputs as the server reports them, or None when the bucket is gone."""
    endpoint = props["endpoint"]
    caps = props.get("capabilities") or _PROBE_ALL
    with _server_errors("read", bucket, endpoint):
        if not _bucket_exists(client, bucket):
            return None
        status = _read_versioning(client, bucket) if caps.get("versioning") else "Disabled"
        rules = _read_lifecycle(client, bucket) if caps.get("lifecycle") else []
        locked, lock_days, mode = _read_lock(client, bucket) if caps.get("object_lock") else (False, 0, None)
        tags = _read_tags(client, bucket, props.get("tags") or {})
    versioning = status == "Enabled"
    return {
        "bucket": bucket,
        "endpoint": endpoint,
        "region": props.get("region") or DEFAULT_REGION,
        "capabilities": props.get("capabilities"),
        "versioning": versioning,
        "versioning_status": status,
        "lifecycle": _neutral_lifecycle(rules, versioning),
        "lifecycle_rules": rules,
        "lock_days": lock_days,
        "object_lock_enabled": locked,
        "lock_mode": mode,
        "tags": tags,
        "credentials": props["credentials"],
    }


def _fresh_state(props: Mapping[str, Any]) -> dict[str, Any]:
    return {"versioning": False, "versioning_status": "Disabled", "lifecycle_rules": [], "lock_days": 0,
            "object_lock_enabled": props["lock_days"] > 0, "lock_mode": None, "tags": {}}


def _apply(client: BaseClient, news: Mapping[str, Any], olds: Mapping[str, Any]) -> None:
    """Bring versioning, lock, lifecycle and tags from `olds` (server state) to `news`; order matters."""
    bucket, endpoint = news["bucket"], news["endpoint"]
    caps = news["capabilities"]
    if caps["versioning"] and news["versioning"] != olds.get("versioning"):
        status = "Enabled" if news["versioning"] else "Suspended"
        if news["versioning"] or olds.get("versioning_status", "Disabled") != "Disabled":
            with _server_errors(f"set versioning to {status} on", bucket, endpoint):
                client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    lock_days = news["lock_days"]
    if lock_days > 0 and not olds.get("object_lock_enabled"):
        raise S3CompatibleError(
            f"bucket '{bucket}' at {endpoint} was created without object lock, which can only be enabled at creation: "
            "replace the bucket (pulumi up --replace) after moving its backups")
    if lock_days != olds.get("lock_days") or (lock_days > 0 and olds.get("lock_mode") != LOCK_MODE):
        lock: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
        if lock_days > 0:
            lock["Rule"] = {"DefaultRetention": {"Mode": LOCK_MODE, "Days": lock_days}}
        with _server_errors(f"set default retention {LOCK_MODE} {lock_days} days on", bucket, endpoint):
            client.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
    rules = lifecycle_rules(news["lifecycle"], news["versioning"])
    if rules != olds.get("lifecycle_rules", []):
        with _server_errors("set the lifecycle rules of", bucket, endpoint):
            if rules:
                client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
            else:
                client.delete_bucket_lifecycle(Bucket=bucket)
    tags = dict(news.get("tags") or {})
    if tags != dict(olds.get("tags") or {}):
        _apply_tags(client, bucket, endpoint, tags)


def _apply_tags(client: BaseClient, bucket: str, endpoint: str, tags: dict[str, str]) -> None:
    try:
        if tags:
            client.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})
        else:
            client.delete_bucket_tagging(Bucket=bucket)
    except boto_errors().ClientError as exc:
        if _not_implemented(exc):
            pulumi.log.warn(f"bucket '{bucket}' at {endpoint}: the server does not implement bucket tagging; "
                            "tags are not applied")
            return
        raise explain(exc, "tag", bucket, endpoint) from exc
    except boto_errors().BotoCoreError as exc:
        raise explain(exc, "tag", bucket, endpoint) from exc


def _raise_on_failures(props: Mapping[str, Any]) -> None:
    failures = check_inputs(props)
    if failures:
        raise S3CompatibleError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))


def _count_versions(client: BaseClient, bucket: str) -> str:
    try:
        page = client.list_object_versions(Bucket=bucket, MaxKeys=1000)
    except (boto_errors().ClientError, boto_errors().BotoCoreError):
        return "objects"
    count = len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    more = "+" if page.get("IsTruncated") else ""
    return f"{count}{more} object versions and delete markers"


@wire.provisioned("credentials", ("access_key_id", "secret_access_key"))
class S3CompatibleProvider(ResourceProvider):
    """CRUD for `Bucket`; stateless, so the pickled provider holds no client and no credentials."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known property; unknowns (preview) in any wire form pass."""
        inputs = _with_defaults(news)
        return CheckResult(inputs, check_inputs(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """An unknown value is a possible change; it replaces only for bucket, endpoint and turning the lock on."""
        olds, news = wire.reveal(olds), _with_defaults(wire.reveal(news))
        replaces = [k for k in ("bucket", "endpoint") if wire.differs(olds.get(k), news.get(k))]
        old_locked = olds.get("object_lock_enabled", (olds.get("lock_days") or 0) > 0)
        lock_days = news.get("lock_days")
        if not old_locked and (wire.has_unknowns(lock_days) or (wire.is_int(lock_days) and lock_days > 0)):
            replaces.append("lock_days")
        changed = any(wire.differs(olds.get(k), news.get(k))
                      for k in ("region", "capabilities", "versioning", "lock_days", "credentials"))
        changed = changed or wire.differs(dict(olds.get("tags") or {}), news.get("tags") or {})
        if wire.has_unknowns(news.get("lifecycle")) or wire.has_unknowns(news.get("versioning")):
            changed = True
        else:
            planned = lifecycle_rules(news.get("lifecycle"), bool(news.get("versioning")))
            current = olds.get("lifecycle_rules")
            if current is None:
                current = lifecycle_rules(olds.get("lifecycle"), bool(olds.get("versioning")))
            changed = changed or planned != current
        if wire.is_int(lock_days) and lock_days > 0 and olds.get("lock_mode") not in (None, LOCK_MODE):
            changed = True
        # Same name on the same server: the old bucket must go before the new one can be created.
        same_place = "bucket" not in replaces and "endpoint" not in replaces
        return DiffResult(changes=bool(replaces) or changed, replaces=replaces,
                          delete_before_replace=bool(replaces) and same_place)

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = _with_defaults(props)
        _raise_on_failures(props)
        bucket, endpoint = props["bucket"], props["endpoint"]
        client = _client(props)
        with _server_errors("check for an existing", bucket, endpoint):
            exists = _bucket_exists(client, bucket)
        if exists:
            raise S3CompatibleError(
                f"bucket '{bucket}' already exists at {endpoint}, and it is never taken over silently: "
                f"{_NOT_ADOPTABLE}")
        args: dict[str, Any] = {"Bucket": bucket}
        if props["lock_days"] > 0:
            args["ObjectLockEnabledForBucket"] = True
        if props["region"] != DEFAULT_REGION:
            args["CreateBucketConfiguration"] = {"LocationConstraint": props["region"]}
        with _server_errors("create", bucket, endpoint):
            client.create_bucket(**args)
        try:
            _apply(client, props, _fresh_state(props))
            outs = _read_state(client, props, bucket)
            if outs is None:
                raise S3CompatibleError(f"bucket '{bucket}' vanished from {endpoint} right after creation")
        except Exception as exc:
            raise S3CompatibleError(
                f"configuring new bucket '{bucket}' at {endpoint} failed, so {_rollback(client, bucket)}: {exc}"
            ) from exc
        return CreateResult(bucket, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        bucket = id_ or props.get("bucket") or ""
        props = _with_defaults({**props, "bucket": bucket})
        missing = [k for k in ("endpoint", "credentials") if not props.get(k)]
        if missing:
            raise S3CompatibleError(f"to read or import bucket '{bucket}' pass {' and '.join(missing)} as well")
        outs = _read_state(_client(props), props, bucket)
        if outs is None:
            return ReadResult("", {})
        return ReadResult(bucket, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = _with_defaults(news)
        _raise_on_failures(news)
        client = _client(news)
        _apply(client, news, olds)
        outs = _read_state(client, news, news["bucket"])
        if outs is None:
            raise S3CompatibleError(f"bucket '{news['bucket']}' disappeared from {news['endpoint']} during the update: "
                                    "run `pulumi refresh` so Pulumi recreates it")
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        bucket = props.get("bucket") or _id
        endpoint = props["endpoint"]
        client = _client(props)
        try:
            client.delete_bucket(Bucket=bucket)
        except boto_errors().ClientError as exc:
            if _gone(exc):
                return
            if _code(exc) == "BucketNotEmpty":
                raise S3CompatibleError(
                    f"refusing to delete bucket '{bucket}' at {endpoint}: backups are still inside "
                    f"({_count_versions(client, bucket)}), and buckets holding backups are never emptied "
                    "automatically. To keep them, protect the resource or drop it from the stack without deleting "
                    "(`pulumi state delete <urn>`); to really remove them, empty the bucket yourself (every version "
                    "and delete marker; locked versions only once their retention ends) and run the delete again"
                ) from exc
            raise explain(exc, "delete", bucket, endpoint) from exc
        except boto_errors().BotoCoreError as exc:
            raise explain(exc, "delete", bucket, endpoint) from exc


def _rollback(client: BaseClient, bucket: str) -> str:
    try:
        client.delete_bucket(Bucket=bucket)
    except (boto_errors().ClientError, boto_errors().BotoCoreError) as exc:
        return f"it could NOT be removed again ({exc}); delete it by hand before retrying"
    return "it was removed again (nothing half-configured is left)"


class Bucket(pulumi.dynamic.Resource, module="s3compatible", name="Bucket"):
    """A backup bucket on an S3-compatible server: versioning, lifecycle, object lock and tags as the plan says."""

    bucket: pulumi.Output[str]
    """Bucket name; also the resource id and the import id."""
    endpoint: pulumi.Output[str]
    """Server URL, http(s)://host[:port]."""
    region: pulumi.Output[str]
    capabilities: pulumi.Output[dict[str, bool]]
    """The flavour's capability row the provider trusted."""
    versioning: pulumi.Output[bool]
    """True when the server reports versioning Enabled."""
    versioning_status: pulumi.Output[str]
    """Enabled, Suspended or Disabled, as read back."""
    lifecycle: pulumi.Output[dict[str, Any] | None]
    """Neutral form of the server's rules; None when absent or not in the shape this provider writes."""
    lifecycle_rules: pulumi.Output[list[dict[str, Any]]]
    """Lifecycle rules exactly as read back (normalised)."""
    lock_days: pulumi.Output[int]
    """Default retention days read back; 0 = no default retention."""
    object_lock_enabled: pulumi.Output[bool]
    lock_mode: pulumi.Output[str | None]
    """Default retention mode read back (GOVERNANCE when managed here)."""
    tags: pulumi.Output[dict[str, str]]
    credentials: pulumi.Output[dict[str, str]]
    """The access key pair; always a secret output."""

    def __init__(
        self,
        resource_name: str,
        *,
        bucket: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        capabilities: pulumi.Input[Capabilities],
        credentials: pulumi.Input[Credentials] | None = None,
        credentials_entry: str | None = None,
        region: pulumi.Input[str] = DEFAULT_REGION,
        versioning: pulumi.Input[bool] = False,
        lifecycle: pulumi.Input[LifecycleSpec] | None = None,
        lock_days: pulumi.Input[int] = 0,
        tags: pulumi.Input[dict[str, str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "bucket": bucket,
            "endpoint": endpoint,
            "region": region,
            "capabilities": capabilities,
            "versioning": versioning,
            "lifecycle": lifecycle,
            "lock_days": lock_days,
            "tags": {} if tags is None else tags,
            "credentials": wire.secret(credentials),
            wire.CREDENTIALS_ENTRY: credentials_entry,
            **dict.fromkeys(READ_ONLY_OUTPUT_KEYS),
        }
        super().__init__(S3CompatibleProvider(), resource_name, props, wire.with_secret_outputs(opts, "credentials"))

    @classmethod
    def get(
        cls,
        resource_name: str,
        bucket: pulumi.Input[str],
        *,
        endpoint: pulumi.Input[str],
        credentials: pulumi.Input[Credentials] | None = None,
        credentials_entry: str | None = None,
        capabilities: pulumi.Input[Capabilities] | None = None,
        region: pulumi.Input[str] = DEFAULT_REGION,
        opts: pulumi.ResourceOptions | None = None,
    ) -> Bucket:
        """Read an existing bucket by name without managing it; without `capabilities` every feature is probed.

        The engine's own import (`pulumi import`, the `import_` option) reads without the resource's properties,
        which a dynamic provider cannot serve, so this is how an existing bucket is brought into a program.
        """
        return cls(
            resource_name,
            bucket=bucket,
            endpoint=endpoint,
            capabilities=capabilities,  # type: ignore[arg-type]
            credentials=credentials,
            credentials_entry=credentials_entry,
            region=region,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=bucket)),
        )
