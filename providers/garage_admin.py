"""Per-tool Garage access keys as a Pulumi dynamic provider on Garage's admin API v2 (Garage 2.x).

Each `Key` is one Garage access key allowed one bucket: read and write for a backup tool, read only for the check
and drill jobs; never `owner` (website, CORS, lifecycle, deleting the bucket) and never bucket creation. The admin
token creates them and is never handed to a tool.

Garage has no policies: a key's rights are per bucket, so a Garage key reaches every prefix of its bucket (README,
threat model). Garage generates the key id and secret; the secret is kept as a secret output. `read` reports drift
in the key's bucket permissions (another bucket, owner, write on a read key, bucket creation) and a key deleted on
the server reads as gone, so the next `up` creates a new one.
API: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html (doc/api/garage-admin-v2.json in the Garage repository):
`Authorization: Bearer <admin_token>`; errors are JSON {code, message, region, path} with 400/403/404/409.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

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

from providers.wire import (
    CREDENTIALS_ENTRY,
    differs,
    has_unknowns,
    http_errors,
    provisioned,
    read_found,
    require_to_read,
    secret,
)

ACCESS = ("write", "read")
INPUT_KEYS = ("key_name", "admin_endpoint", "bucket", "access", "ca_file", "credentials")
REPLACE_KEYS = ("admin_endpoint", "bucket")
"""A key lives on one cluster; moving it to another bucket is a new key (its secret went to the old bucket's tool)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$")
_ENDPOINT = re.compile(r"^https?://[^/\s]+/?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class GarageAdminError(Exception):
    """A refusal or failure of the Garage admin API, phrased with the key, the cluster and the fix."""


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def wanted_permissions(access: str) -> dict[str, bool]:
    """A tool key's rights on its bucket: read, write only for a writer, never owner."""
    return {"read": True, "write": access == "write", "owner": False}


def check_inputs(props: Mapping[str, Any]) -> list[CheckFailure]:
    """One failure per bad known input, naming the property; unknown values (preview) pass."""
    failures: list[CheckFailure] = []
    rules = (
        ("key_name", lambda v: isinstance(v, str) and bool(_NAME.match(v)),
         "must be 3-128 letters, digits, '.', '_' or '-'"),
        ("admin_endpoint", lambda v: isinstance(v, str) and bool(_ENDPOINT.match(v)),
         "must be the admin API's http(s)://host:port (port 3903 by default) without a path"),
        ("bucket", lambda v: isinstance(v, str) and bool(_BUCKET.match(v)), "must be a 3-63 character bucket name"),
        ("access", lambda v: v in ACCESS, "must be 'write' (backup tool) or 'read' (check and drill jobs)"),
        ("ca_file", lambda v: v is None or (isinstance(v, str) and bool(v)),
         "must be the path of a PEM bundle or null"),
    )
    for prop, valid, problem in rules:
        value = props.get(prop)
        if not has_unknowns(value) and not valid(value):
            failures.append(CheckFailure(prop, f"{problem}; got {value!r}"))
    creds = props.get("credentials")
    if not has_unknowns(creds) and not (isinstance(creds, Mapping) and isinstance(creds.get("admin_token"), str)
                                        and creds.get("admin_token")):
        failures.append(CheckFailure("credentials", "needs the cluster's admin_token (garage.toml [admin] "
                                                    "admin_token, or an admin token with the key and bucket scopes)"))
    return failures


def _raise_on_failures(props: Mapping[str, Any]) -> None:
    failures = check_inputs(props)
    if failures:
        raise GarageAdminError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))


class _Admin:
    """A client for one cluster's admin API; built per call so the pickled provider holds no secret."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        import urllib3

        self.base = props["admin_endpoint"].rstrip("/")
        self.token = props["credentials"]["admin_token"]
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=10, read=60), cert_reqs=ssl.CERT_REQUIRED,
            ca_certs=props.get("ca_file") or None,
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[502, 503, 504],
                                  allowed_methods=None))

    def call(self, method: str, operation: str, query: Mapping[str, Any] | None = None,
             body: Any = None) -> Any:
        url = f"{self.base}/v2/{operation}" + (f"?{urlencode(query)}" if query else "")
        response = self.http.request(
            method, url, headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body).encode())
        text = response.data.decode("utf-8", "replace")
        if response.status >= 300:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            raise _ApiError(response.status, str(parsed.get("code", "")), str(parsed.get("message", ""))[:200])
        return json.loads(text) if text.strip() else None


def _missing(exc: _ApiError) -> bool:
    return exc.status == 404 and exc.code in ("NoSuchAccessKey", "NoSuchBucket", "NoSuchKey")


@contextmanager
def _admin_errors(action: str, props: Mapping[str, Any]) -> Iterator[None]:
    where = f"Garage key '{props.get('key_name')}' at {props.get('admin_endpoint')}"
    try:
        yield
    except _ApiError as exc:
        if exc.status in (401, 403):
            raise GarageAdminError(
                f"cannot {action} {where}: the admin API refused the token ({exc.code or exc.status}). Give the "
                "destination's credentials the cluster's admin token: `pulumi config set --secret --path "
                "'credentials.<destination>.admin_token' ...`") from None
        if exc.code == "NoSuchBucket":
            raise GarageAdminError(f"cannot {action} {where}: bucket '{props.get('bucket')}' does not exist on the "
                                   "cluster (the bucket resource creates it first; check the S3 endpoint and the "
                                   "admin endpoint point at the same cluster)") from None
        raise GarageAdminError(f"cannot {action} {where}: the admin API answered {exc.status} {exc.code} "
                               f"({exc.message})") from None
    except (http_errors().HTTPError, OSError, ValueError) as exc:
        raise GarageAdminError(
            f"cannot reach {props.get('admin_endpoint')} to {action} {where} ({type(exc).__name__}): check "
            "admin_endpoint (the admin port, 3903 by default), that the cluster runs, and for a private CA the "
            "destination's ca_file") from None


def _bucket_id(admin: _Admin, bucket: str) -> str:
    return str(admin.call("GET", "GetBucketInfo", {"globalAlias": bucket})["id"])


def _key_info(admin: _Admin, key_id: str) -> dict[str, Any] | None:
    try:
        return admin.call("GET", "GetKeyInfo", {"id": key_id, "showSecretKey": "false"})
    except _ApiError as exc:
        if _missing(exc):
            return None
        raise


def _state(admin: _Admin, props: Mapping[str, Any], key_id: str) -> dict[str, Any] | None:
    """Outputs as the cluster reports them, or None when the key is gone."""
    info = _key_info(admin, key_id)
    if info is None:
        return None
    bucket_id = props.get("bucket_id") or _bucket_id(admin, props["bucket"])
    grants = {b["id"]: {k: bool(v) for k, v in (b.get("permissions") or {}).items()} for b in info.get("buckets", [])}
    own = grants.get(bucket_id, {})
    create_bucket = bool((info.get("permissions") or {}).get("createBucket"))
    drifted = (set(grants) != {bucket_id} or {k: own.get(k, False) for k in ("read", "write", "owner")}
               != wanted_permissions(props["access"]) or create_bucket or bool(info.get("expired")))
    return {
        **{k: props.get(k) for k in INPUT_KEYS},
        "access": "drifted" if drifted else props["access"],
        "key_name": props["key_name"],
        "name_on_server": str(info.get("name", "")),
        "access_key_id": key_id,
        "secret_access_key": props.get("secret_access_key"),
        "bucket_id": bucket_id,
        "permissions": {k: own.get(k, False) for k in ("read", "write", "owner")},
        "other_buckets": sorted(b for b in grants if b != bucket_id),
        "create_bucket": create_bucket,
    }


def _converge(admin: _Admin, props: Mapping[str, Any], key_id: str, bucket_id: str,
              info: Mapping[str, Any]) -> None:
    """Make the key's rights exactly the wanted ones on its bucket and none elsewhere."""
    wanted = wanted_permissions(props["access"])
    for granted in info.get("buckets", []):
        if granted["id"] != bucket_id:
            admin.call("POST", "DenyBucketKey", body={"bucketId": granted["id"], "accessKeyId": key_id,
                                                      "permissions": {"read": True, "write": True, "owner": True}})
    refuse = {k: True for k, v in wanted.items() if not v}
    if refuse:
        admin.call("POST", "DenyBucketKey", body={"bucketId": bucket_id, "accessKeyId": key_id,
                                                  "permissions": refuse})
    admin.call("POST", "AllowBucketKey", body={"bucketId": bucket_id, "accessKeyId": key_id,
                                               "permissions": {k: True for k, v in wanted.items() if v}})
    admin.call("POST", "UpdateKey", {"id": key_id}, body={
        "name": props["key_name"], "deny": {"createBucket": True}, "neverExpires": True})


@provisioned("credentials", ("admin_token",))
class GarageKeyProvider(ResourceProvider):
    """CRUD for `Key`; stateless, so the pickled provider holds no client and no credentials."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known input; unknowns (preview) pass."""
        inputs = {**news}
        inputs.setdefault("ca_file", None)
        return CheckResult(inputs, check_inputs(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Cluster and bucket replace; access and name update in place; drift read back is a change."""
        replaces = [k for k in REPLACE_KEYS if differs(olds.get(k), news.get(k))]
        changed = [k for k in INPUT_KEYS if k not in REPLACE_KEYS and differs(olds.get(k), news.get(k))]
        if olds.get("access") == "drifted":
            changed.append("access")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """A new key with exactly its bucket rights, all or nothing (a half-made key is deleted)."""
        _raise_on_failures(props)
        admin = _Admin(props)
        with _admin_errors("look up the bucket for", props):
            bucket_id = _bucket_id(admin, props["bucket"])
        with _admin_errors("create", props):
            created = admin.call("POST", "CreateKey", body={"name": props["key_name"], "neverExpires": True,
                                                            "deny": {"createBucket": True}})
        key_id, secret_key = str(created["accessKeyId"]), created.get("secretAccessKey")
        try:
            if not secret_key:
                raise GarageAdminError(f"Garage returned no secret for the new key '{props['key_name']}'")
            with _admin_errors("grant the bucket to", props):
                _converge(admin, props, key_id, bucket_id, created)
                outs = _state(admin, {**props, "bucket_id": bucket_id, "secret_access_key": secret_key}, key_id)
            if outs is None:
                raise GarageAdminError(f"Garage key '{key_id}' vanished right after creation")
        except GarageAdminError as exc:
            raise GarageAdminError(f"{exc}; {_rollback(admin, key_id)}") from None
        return CreateResult(key_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The key as the cluster holds it; gone when deleted on the server."""
        require_to_read(props, ("admin_endpoint", "bucket", "access", "key_name", "credentials"),
                        f"Garage key '{id_}'", GarageAdminError)
        with _admin_errors("read", props):
            outs = _state(_Admin(props), props, id_)
        return read_found(id_, outs, INPUT_KEYS)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rights and name set again; grants on other buckets and bucket creation withdrawn."""
        _raise_on_failures(news)
        admin = _Admin(news)
        props = {**news, "bucket_id": olds.get("bucket_id"), "secret_access_key": olds.get("secret_access_key")}
        with _admin_errors("update", props):
            info = _key_info(admin, id_)
            if info is None:
                raise GarageAdminError(f"Garage key '{id_}' is gone from {news['admin_endpoint']}: run `pulumi "
                                       "refresh` so the next `pulumi up` creates a new one")
            bucket_id = props["bucket_id"] or _bucket_id(admin, news["bucket"])
            _converge(admin, props, id_, bucket_id, info)
            outs = _state(admin, {**props, "bucket_id": bucket_id}, id_)
        if outs is None:
            raise GarageAdminError(f"Garage key '{id_}' disappeared during the update")
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the key; a key already gone is fine."""
        with _admin_errors("delete", props):
            try:
                _Admin(props).call("POST", "DeleteKey", {"id": id_})
            except _ApiError as exc:
                if not _missing(exc):
                    raise


def _rollback(admin: _Admin, key_id: str) -> str:
    try:
        admin.call("POST", "DeleteKey", {"id": key_id})
    except (_ApiError, http_errors().HTTPError, OSError) as exc:
        return (f"and the new key could NOT be deleted ({type(exc).__name__}); delete key {key_id} by hand "
                "(`garage key delete --yes " + key_id + "`) before retrying")
    return "nothing was left behind"


class Key(pulumi.dynamic.Resource, module="garage", name="Key"):
    """One Garage access key allowed one bucket: read-write for a backup tool, read-only for checks and drills."""

    key_name: pulumi.Output[str]
    """The key's name on the cluster (names are labels: Garage does not keep them unique)."""
    admin_endpoint: pulumi.Output[str]
    bucket: pulumi.Output[str]
    access: pulumi.Output[str]
    """`write` or `read`; `drifted` when the key's rights on the cluster no longer match."""
    ca_file: pulumi.Output[str | None]
    credentials_entry: pulumi.Output[str | None]
    """The stack's `credentials.<entry>` the provider reads the admin token from (provider configuration)."""
    access_key_id: pulumi.Output[str]
    """Generated by Garage (GK...); also the resource id."""
    secret_access_key: pulumi.Output[str]
    """Generated by Garage; always a secret."""
    bucket_id: pulumi.Output[str]
    permissions: pulumi.Output[dict[str, bool]]
    other_buckets: pulumi.Output[list[str]]
    create_bucket: pulumi.Output[bool]
    name_on_server: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        key_name: pulumi.Input[str],
        admin_endpoint: pulumi.Input[str],
        bucket: pulumi.Input[str],
        access: pulumi.Input[str],
        credentials: pulumi.Input[Mapping[str, str]] | None = None,
        credentials_entry: str | None = None,
        ca_file: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"key_name": key_name, "admin_endpoint": admin_endpoint, "bucket": bucket, "access": access,
                 "ca_file": ca_file, "credentials": secret(credentials), CREDENTIALS_ENTRY: credentials_entry,
                 **dict.fromkeys(("access_key_id", "secret_access_key", "bucket_id", "permissions", "other_buckets",
                                  "create_bucket", "name_on_server"))}
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["credentials", "secret_access_key"]))
        super().__init__(GarageKeyProvider(), resource_name, props, opts)

    @property
    def credential(self) -> pulumi.Output:
        """Secret Output {access_key_id, secret_access_key}, the shape every mover takes."""
        return pulumi.Output.secret(pulumi.Output.all(self.access_key_id, self.secret_access_key).apply(
            lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))
