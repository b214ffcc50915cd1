"""Per-tool MinIO identities as a Pulumi dynamic provider on the `minio` package's admin client.

Each `User` is one MinIO user whose only policy allows one bucket and one prefix: read-write for a backup tool,
read-only for the check and drill jobs. The destination's admin key creates them and is never handed to a tool, so a
stolen tool key cannot touch another dataset's prefix, the bucket's configuration (lock, lifecycle, versioning) or
other identities.

MinIO cannot return a user's secret key, so the provider generates it at create and keeps it as a secret output;
`read` reports drift in the policy and the user's presence, and a user deleted on the server reads as gone, so the
next `up` recreates it with a new secret.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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

from plan.capabilities import s3_prefix_policy
from providers import wire
from providers.wire import http_errors

if TYPE_CHECKING:
    from minio.error import MinioAdminException
    from minio.minioadmin import MinioAdmin



def _minio_error() -> type[Exception]:
    """minio's admin error, imported with the first client (the program and a preview's check and diff need none)."""
    from minio.error import MinioAdminException

    return MinioAdminException


ACCESS = ("write", "read")
INPUT_KEYS = ("user_name", "endpoint", "bucket", "prefix", "access", "ca_file", "credentials")
REPLACE_KEYS = ("user_name", "endpoint")
"""An identity lives on one server under one name: changing either makes a new identity (and a new secret)."""

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
_ENDPOINT = re.compile(r"^https?://[^/\s]+/?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
SECRET_BYTES = 30
"""40 URL-safe characters: MinIO accepts secret keys of 8 to 40 characters."""


class MinioAdminError(Exception):
    """A refusal or failure of the MinIO admin API, phrased with the identity, the server and the fix."""


def user_policy(bucket: str, prefix: str, access: str) -> dict:
    """The one policy a tool identity holds: the shared S3 prefix policy plus MinIO's HeadBucket.

    MinIO authorises HEAD on a bucket as `s3:HeadBucket` (or an unconditioned ListBucket); restic's `init` and
    rclone probe the bucket that way, and a HEAD reveals nothing but the bucket's existence.
    """
    policy = s3_prefix_policy(bucket, prefix, write=access == "write")
    policy["Statement"].append({"Effect": "Allow", "Action": ["s3:HeadBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]})
    return policy


def policy_name(user_name: str) -> str:
    """Each identity gets its own policy, named after it, so removing one never changes another."""
    return f"{user_name}-policy"


def check_inputs(props: Mapping[str, Any]) -> list[CheckFailure]:
    """One failure per bad known input, naming the property; unknown values (preview) pass."""
    failures: list[CheckFailure] = []

    def bad(prop: str, problem: str | None) -> None:
        if problem:
            failures.append(CheckFailure(prop, problem))

    value = props.get("user_name")
    if not wire.has_unknowns(value) and not (isinstance(value, str) and USER_NAME.match(value)):
        bad("user_name", f"must be 3-64 letters, digits, '.', '_' or '-', starting with a letter or digit; "
                         f"got {value!r}")
    value = props.get("endpoint")
    if not wire.has_unknowns(value) and not (isinstance(value, str) and _ENDPOINT.match(value)):
        bad("endpoint", f"must be http(s)://host[:port] without a path, got {value!r}")
    value = props.get("bucket")
    if not wire.has_unknowns(value) and not (isinstance(value, str) and _BUCKET.match(value)):
        bad("bucket", f"must be a 3-63 character S3 bucket name, got {value!r}")
    value = props.get("prefix")
    if not wire.has_unknowns(value) and not (isinstance(value, str) and _PREFIX.match(value)):
        bad("prefix", f"must be a non-empty path without wildcards or leading/trailing '/', e.g. "
                      f"'photos-restic'; got {value!r} (an empty prefix would grant the whole bucket)")
    value = props.get("access")
    if not wire.has_unknowns(value) and value not in ACCESS:
        bad("access", f"must be 'write' (backup tool) or 'read' (check and drill jobs), got {value!r}")
    value = props.get("ca_file")
    if value is not None and not wire.has_unknowns(value) and not (isinstance(value, str) and value):
        bad("ca_file", f"must be the path of a PEM bundle or null, got {value!r}")
    creds = props.get("credentials")
    if not wire.has_unknowns(creds):
        if not isinstance(creds, Mapping):
            bad("credentials", "must be the destination's admin key {access_key_id, secret_access_key}")
        else:
            missing = [k for k in ("access_key_id", "secret_access_key")
                       if not wire.has_unknowns(creds.get(k)) and not (isinstance(creds.get(k), str) and creds.get(k))]
            bad("credentials", f"needs a non-empty {' and '.join(missing)}" if missing else None)
            if (not missing and not wire.has_unknowns(value := props.get("user_name")) and not wire.has_unknowns(creds)
                    and value == creds.get("access_key_id")):
                bad("user_name", "equals the admin access key: a tool identity must be a separate user")
    return failures


def _raise_on_failures(props: Mapping[str, Any]) -> None:
    failures = check_inputs(props)
    if failures:
        raise MinioAdminError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))


def _admin(props: Mapping[str, Any]) -> MinioAdmin:
    """An admin client for the resource's server; built per call so the pickled provider holds no secret."""
    import urllib3
    from minio.credentials import StaticProvider
    from minio.minioadmin import MinioAdmin

    url = urlsplit(props["endpoint"])
    creds = props["credentials"]
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=10, read=60),
        cert_reqs=ssl.CERT_REQUIRED,
        ca_certs=props.get("ca_file") or None,
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
    )
    return MinioAdmin(endpoint=url.netloc, credentials=StaticProvider(creds["access_key_id"],
                                                                      creds["secret_access_key"]),
                      secure=url.scheme == "https", http_client=http)


def _status(exc: MinioAdminException) -> str:
    return str(getattr(exc, "_code", ""))


def _body(exc: MinioAdminException) -> str:
    return str(getattr(exc, "_body", ""))


def _missing(exc: MinioAdminException) -> bool:
    body = _body(exc)
    return _status(exc) == "404" or "NoSuchUser" in body or "NoSuchPolicy" in body or "does not exist" in body


@contextmanager
def _admin_errors(action: str, props: Mapping[str, Any]) -> Iterator[None]:
    where = f"MinIO user '{props.get('user_name')}' at {props.get('endpoint')}"
    try:
        yield
    except _minio_error() as exc:
        status, body = _status(exc), _body(exc)
        code = _error_code(body)
        if status == "403" or code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            raise MinioAdminError(
                f"cannot {action} {where}: the server refused the admin key ({code or status}). Give the "
                "destination's credentials an admin key (the root user or one with the consoleAdmin policy): "
                "`pulumi config set --secret --path 'credentials.<destination>.access_key_id' ...`") from None
        raise MinioAdminError(f"cannot {action} {where}: the admin API answered {status} {code}".rstrip()) from None
    except (http_errors().HTTPError, OSError) as exc:
        raise MinioAdminError(
            f"cannot reach {props.get('endpoint')} to {action} {where} ({type(exc).__name__}): check the endpoint, "
            "that the server runs, and for a private CA the destination's ca_file") from None


def _error_code(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    return str(parsed.get("Code", "")) if isinstance(parsed, dict) else ""


def _read_user(admin: MinioAdmin, user: str) -> dict[str, Any] | None:
    try:
        return json.loads(admin.user_info(user))
    except _minio_error() as exc:
        if _missing(exc):
            return None
        raise


def _read_policy(admin: MinioAdmin, name: str) -> dict[str, Any] | None:
    try:
        info = json.loads(admin.policy_info(name))
    except _minio_error() as exc:
        if _missing(exc):
            return None
        raise
    # Newer servers wrap the document: {"PolicyName": ..., "Policy": {...}}.
    return info.get("Policy", info) if isinstance(info, dict) else None


def normal_policy(policy: Mapping[str, Any] | None) -> Any:
    """A policy document in a form where key order and one-element lists carry no meaning."""
    def norm(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [norm(v) for v in value]
            if all(isinstance(v, str) for v in items):
                return sorted(items)
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return value
    return norm(policy) if policy is not None else None


def _state(admin: MinioAdmin, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Outputs as the server reports them, or None when the user is gone."""
    user = props["user_name"]
    info = _read_user(admin, user)
    if info is None:
        return None
    name = policy_name(user)
    attached = [p for p in str(info.get("policyName") or "").split(",") if p]
    document = _read_policy(admin, name)
    expected = user_policy(props["bucket"], props["prefix"], props["access"])
    # The server's copy decides what the inputs are: a policy edited on the server shows up as drift.
    drifted = document is not None and normal_policy(document) != normal_policy(expected)
    return {
        **{k: props.get(k) for k in INPUT_KEYS},
        "access": "drifted" if drifted else props["access"],
        "access_key_id": user,
        "secret_access_key": props.get("secret_access_key"),
        "policy_name": name,
        "attached_policies": sorted(attached),
        "status": str(info.get("status") or ""),
    }


def _apply_policy(admin: MinioAdmin, props: Mapping[str, Any]) -> None:
    name = policy_name(props["user_name"])
    admin.policy_add(name, policy=user_policy(props["bucket"], props["prefix"], props["access"]))


@wire.provisioned("credentials", ("access_key_id", "secret_access_key"))
class MinioUserProvider(ResourceProvider):
    """CRUD for `User`; stateless, so the pickled provider holds no client and no credentials."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {**news}
        inputs.setdefault("ca_file", None)
        return CheckResult(inputs, check_inputs(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_KEYS if wire.differs(olds.get(k), news.get(k))]
        changed = [k for k in INPUT_KEYS if k not in REPLACE_KEYS
                   and (wire.differs(olds.get(k), news.get(k)))]
        if olds.get("status") not in (None, "enabled") or olds.get("access") == "drifted":
            changed.append("access")
        if olds.get("attached_policies") is not None and olds.get("user_name") and \
                olds["attached_policies"] != [policy_name(olds["user_name"])]:
            changed.append("access")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces,
                          # Same name on the same server: the old user must go before the new one exists.
                          delete_before_replace=bool(replaces) and "user_name" not in replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        _raise_on_failures(props)
        admin = _admin(props)
        user = props["user_name"]
        with _admin_errors("look up", props):
            exists = _read_user(admin, user) is not None
        if exists:
            raise MinioAdminError(
                f"MinIO user '{user}' already exists at {props['endpoint']}: it is never taken over (its secret is "
                "unknown to the program). Remove it on the server (`mc admin user rm ALIAS " + user + "`) or adopt "
                "it with `User.get` and the secret it has")
        secret = secrets.token_urlsafe(SECRET_BYTES)
        done: list[str] = []
        try:
            with _admin_errors("create the policy of", props):
                _apply_policy(admin, props)
                done.append("policy")
            with _admin_errors("create", props):
                admin.user_add(user, secret)
                done.append("user")
            with _admin_errors("attach the policy to", props):
                admin.attach_policy([policy_name(user)], user=user)
            with _admin_errors("read back", props):
                outs = _state(admin, {**props, "secret_access_key": secret})
            if outs is None:
                raise MinioAdminError(f"MinIO user '{user}' vanished from {props['endpoint']} right after creation")
        except MinioAdminError as exc:
            raise MinioAdminError(f"{exc}; {_rollback(admin, user, done)}") from None
        return CreateResult(user, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = {**props, "user_name": props.get("user_name") or id_}
        wire.require_to_read(props, ("endpoint", "bucket", "prefix", "access", "credentials"), f"MinIO user '{id_}'",
                        MinioAdminError)
        with _admin_errors("read", props):
            outs = _state(_admin(props), props)
        return wire.read_found(id_, outs, INPUT_KEYS)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _raise_on_failures(news)
        admin = _admin(news)
        user = news["user_name"]
        props = {**news, "secret_access_key": olds.get("secret_access_key")}
        with _admin_errors("update the policy of", props):
            if _read_user(admin, user) is None:
                raise MinioAdminError(f"MinIO user '{user}' is gone from {news['endpoint']}: run `pulumi refresh` "
                                      "so the next `pulumi up` recreates it (with a new secret)")
            _apply_policy(admin, news)
            extra = [p for p in olds.get("attached_policies") or [] if p != policy_name(user)]
            if extra:
                admin.detach_policy(extra, user=user)
            if policy_name(user) not in (olds.get("attached_policies") or []):
                admin.attach_policy([policy_name(user)], user=user)
            if olds.get("status") not in (None, "enabled"):
                admin.user_enable(user)
            outs = _state(admin, props)
        if outs is None:
            raise MinioAdminError(f"MinIO user '{user}' disappeared from {news['endpoint']} during the update")
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        admin = _admin(props)
        user = props.get("user_name") or _id
        with _admin_errors("delete", props):
            for call, arg in ((admin.user_remove, user), (admin.policy_remove, policy_name(user))):
                try:
                    call(arg)
                except _minio_error() as exc:
                    if not _missing(exc):
                        raise


def _rollback(admin: MinioAdmin, user: str, done: list[str]) -> str:
    try:
        if "user" in done:
            admin.user_remove(user)
        if "policy" in done:
            admin.policy_remove(policy_name(user))
    except (_minio_error(), http_errors().HTTPError, OSError) as exc:
        return f"and what was created could NOT be removed ({type(exc).__name__}); remove user and policy " \
               f"'{user}' by hand before retrying"
    return "nothing was left behind"


class User(pulumi.dynamic.Resource, module="minio", name="User"):
    """One MinIO identity allowed one bucket prefix: read-write for a backup tool, read-only for checks and drills."""

    user_name: pulumi.Output[str]
    """The user's access key; also the resource id."""
    endpoint: pulumi.Output[str]
    bucket: pulumi.Output[str]
    prefix: pulumi.Output[str]
    access: pulumi.Output[str]
    """`write` or `read`; `drifted` when the server's policy no longer matches."""
    ca_file: pulumi.Output[str | None]
    credentials: pulumi.Output[dict[str, str] | None]
    """The admin key that manages the user when passed as an input; always a secret."""
    credentials_entry: pulumi.Output[str | None]
    """Otherwise the stack's `credentials.<entry>` the provider reads the admin key from (provider configuration)."""
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    """Generated at create; always a secret."""
    policy_name: pulumi.Output[str]
    attached_policies: pulumi.Output[list[str]]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        user_name: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        bucket: pulumi.Input[str],
        prefix: pulumi.Input[str],
        access: pulumi.Input[str],
        credentials: pulumi.Input[Mapping[str, str]] | None = None,
        credentials_entry: str | None = None,
        ca_file: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"user_name": user_name, "endpoint": endpoint, "bucket": bucket, "prefix": prefix, "access": access,
                 "ca_file": ca_file, "credentials": wire.secret(credentials),
                 wire.CREDENTIALS_ENTRY: credentials_entry,
                 "access_key_id": None, "secret_access_key": None, "policy_name": None, "attached_policies": None,
                 "status": None}
        opts = wire.with_secret_outputs(opts, "credentials", "secret_access_key")
        super().__init__(MinioUserProvider(), resource_name, props, opts)

    @property
    def credential(self) -> pulumi.Output:
        """Secret Output {access_key_id, secret_access_key}, the shape every mover takes."""
        return pulumi.Output.secret(pulumi.Output.all(self.access_key_id, self.secret_access_key).apply(
            lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))
