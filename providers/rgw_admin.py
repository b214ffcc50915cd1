"""Per-tool Ceph RGW identities as Pulumi dynamic resources: users through the admin ops API, their scope through
one bucket policy per bucket.

RGW users have no IAM policies of their own (outside RGW accounts); what a plain user may do in someone else's bucket
is what the bucket's policy grants. So:

- `User` is one RGW user per tool identity (`PUT /admin/user`, signed like S3 with the destination's admin key, a
  user holding the `users=*` cap): one generated S3 key, no admin caps, bucket creation disabled (max-buckets -1).
  RGW subusers are not used: their access levels (read, write, readwrite, full) cover the whole account and cannot
  name a prefix.
- `BucketPolicy` is the bucket's one policy document (PutBucketPolicy by the bucket's owner, the admin key), holding
  for each identity the shared prefix statements (plan.capabilities.s3_prefix_policy) with the user as principal.
  One resource owns the whole document, so identities created in parallel never overwrite each other's statements.

Admin ops: https://docs.ceph.com/en/latest/radosgw/adminops/ (errors are S3-style JSON {Code, RequestId, HostId});
bucket policies: https://docs.ceph.com/en/latest/radosgw/bucketpolicy/.
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

from plan.capabilities import s3_prefix_policy
from providers.minio_admin import normal_policy
from providers.wire import (
    CREDENTIALS_ENTRY,
    boto_errors,
    differs,
    has_unknowns,
    http_errors,
    provisioned,
    read_found,
    secret,
)

ADMIN_FIELDS = ("access_key_id", "secret_access_key")
USER_INPUTS = ("uid", "endpoint", "region", "ca_file", "credentials")
POLICY_INPUTS = ("bucket", "endpoint", "region", "grants", "ca_file", "credentials")
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
_ENDPOINT = re.compile(r"^https?://[^/\s]+/?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
NO_BUCKETS = -1
"""RGW's max-buckets: a negative value disables bucket creation for the user."""
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class RgwAdminError(Exception):
    """A refusal or failure of RGW, phrased with the identity or bucket, the endpoint and the fix."""


class _ApiError(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


def principal(uid: str) -> str:
    """A plain (tenantless) RGW user as a bucket-policy principal."""
    return f"arn:aws:iam:::user/{uid}"


def bucket_policy(bucket: str, grants: list[Mapping[str, str]]) -> dict:
    """The bucket's one policy: for each grant {uid, prefix, access}, the shared prefix statements for that user."""
    statements = []
    for grant in sorted(grants, key=lambda g: g["uid"]):
        shared = s3_prefix_policy(bucket, grant["prefix"], write=grant["access"] == "write")
        for index, statement in enumerate(shared["Statement"]):
            statements.append({"Sid": f"{re.sub(r'[^A-Za-z0-9]', '', grant['uid'])}{index}",
                               "Principal": {"AWS": [principal(grant["uid"])]}, **statement})
    return {"Version": "2012-10-17", "Statement": statements}


def _common_failures(props: Mapping[str, Any]) -> list[CheckFailure]:
    failures = []
    value = props.get("endpoint")
    if not has_unknowns(value) and not (isinstance(value, str) and _ENDPOINT.match(value)):
        failures.append(CheckFailure("endpoint", f"must be the RGW's http(s)://host[:port] without a path; got "
                                                 f"{value!r}"))
    value = props.get("ca_file")
    if value is not None and not has_unknowns(value) and not (isinstance(value, str) and value):
        failures.append(CheckFailure("ca_file", f"must be the path of a PEM bundle or null; got {value!r}"))
    creds = props.get("credentials")
    if not has_unknowns(creds) and not (isinstance(creds, Mapping)
                                        and all(isinstance(creds.get(k), str) and creds.get(k) for k in ADMIN_FIELDS)):
        failures.append(CheckFailure("credentials", "needs the admin key {access_key_id, secret_access_key} of an "
                                                    "RGW user with the users=* cap that owns the buckets"))
    return failures


def check_user(props: Mapping[str, Any]) -> list[CheckFailure]:
    """One failure per bad known `User` input."""
    failures = []
    value = props.get("uid")
    if not has_unknowns(value) and not (isinstance(value, str) and _UID.match(value)):
        failures.append(CheckFailure("uid", f"must be 3-64 letters, digits, '.', '_' or '-'; got {value!r}"))
    failures += _common_failures(props)
    creds = props.get("credentials")
    if (not failures and not has_unknowns(creds) and isinstance(creds, Mapping)
            and props.get("uid") == creds.get("access_key_id")):
        failures.append(CheckFailure("uid", "equals the admin access key: a tool identity must be a separate user"))
    return failures


def check_policy(props: Mapping[str, Any]) -> list[CheckFailure]:
    """One failure per bad known `BucketPolicy` input (each bad grant named by its index)."""
    failures = []
    value = props.get("bucket")
    if not has_unknowns(value) and not (isinstance(value, str) and _BUCKET.match(value)):
        failures.append(CheckFailure("bucket", f"must be a 3-63 character bucket name; got {value!r}"))
    grants = props.get("grants")
    if not has_unknowns(grants):
        if not isinstance(grants, list) or not grants:
            failures.append(CheckFailure("grants", "must list at least one {uid, prefix, access}"))
        else:
            for index, grant in enumerate(grants):
                if has_unknowns(grant):
                    continue
                ok = (isinstance(grant, Mapping) and isinstance(grant.get("uid"), str) and _UID.match(grant["uid"])
                      and isinstance(grant.get("prefix"), str) and _PREFIX.match(grant["prefix"])
                      and grant.get("access") in ("write", "read"))
                if not ok:
                    failures.append(CheckFailure(f"grants[{index}]", "must be {uid, prefix (no wildcards or leading "
                                                                     f"'/'), access: write|read}}; got {grant!r}"))
    return failures + _common_failures(props)


class _Admin:
    """Signed calls to one RGW (admin ops and S3); built per call so the pickled provider holds no secret."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        import urllib3
        from botocore.credentials import Credentials

        self.base = props["endpoint"].rstrip("/")
        self.region = props.get("region") or "us-east-1"
        creds = props["credentials"]
        self.creds = Credentials(creds["access_key_id"], creds["secret_access_key"])
        self.ca_file = props.get("ca_file") or None
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=10, read=60), cert_reqs=ssl.CERT_REQUIRED, ca_certs=self.ca_file,
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[502, 503, 504]))

    def user_op(self, method: str, params: Mapping[str, Any]) -> Any:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = f"{self.base}/admin/user?{urlencode({**params, 'format': 'json'})}"
        request = AWSRequest(method=method, url=url, data=b"")
        S3SigV4Auth(self.creds, "s3", self.region).add_auth(request)
        response = self.http.request(method, url, headers=dict(request.headers.items()), body=b"")
        text = response.data.decode("utf-8", "replace")
        if response.status >= 300:
            try:
                code = str(json.loads(text).get("Code", ""))
            except (ValueError, AttributeError):
                code = ""
            raise _ApiError(response.status, code)
        return json.loads(text) if text.strip() else None

    def s3(self) -> Any:
        import boto3
        from botocore.config import Config as BotoConfig

        return boto3.client("s3", endpoint_url=self.base, region_name=self.region, verify=self.ca_file or True,
                            aws_access_key_id=self.creds.access_key, aws_secret_access_key=self.creds.secret_key,
                            config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                                              request_checksum_calculation="when_required",
                                              response_checksum_validation="when_required"))


@contextmanager
def _errors(action: str, where: str, props: Mapping[str, Any]) -> Iterator[None]:
    try:
        yield
    except (_ApiError, boto_errors().ClientError) as exc:
        code = exc.code if isinstance(exc, _ApiError) else str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED or (isinstance(exc, _ApiError) and exc.status == 403):
            raise RgwAdminError(
                f"cannot {action} {where}: RGW refused the admin key ({code or 403}). Give the destination's "
                "credentials the key of an RGW user with the users=* cap that owns the buckets (`radosgw-admin caps "
                "add --uid=<admin> --caps='users=*'`): `pulumi config set --secret --path "
                "'credentials.<destination>.access_key_id' ...`") from None
        if code == "NoSuchBucket":
            raise RgwAdminError(f"cannot {action} {where}: the bucket does not exist (the bucket resource creates "
                                "it first)") from None
        raise RgwAdminError(f"cannot {action} {where}: RGW answered {code or exc}") from None
    except (http_errors().HTTPError, boto_errors().BotoCoreError, OSError) as exc:
        raise RgwAdminError(f"cannot reach {props.get('endpoint')} to {action} {where} ({type(exc).__name__}): "
                            "check the endpoint, that RGW runs, and for a private CA the destination's ca_file") \
            from None


def _user(admin: _Admin, uid: str) -> dict[str, Any] | None:
    try:
        return admin.user_op("GET", {"uid": uid})
    except _ApiError as exc:
        if exc.status == 404 or exc.code == "NoSuchUser":
            return None
        raise


def _user_state(admin: _Admin, props: Mapping[str, Any], key_id: str | None) -> dict[str, Any] | None:
    info = _user(admin, props["uid"])
    if info is None:
        return None
    keys = [k.get("access_key") for k in info.get("keys", [])]
    caps = sorted(f"{c.get('type')}={c.get('perm')}" for c in info.get("caps", []))
    return {
        **{k: props.get(k) for k in USER_INPUTS},
        "access_key_id": key_id,
        "secret_access_key": props.get("secret_access_key"),
        "caps": caps,
        "max_buckets": int(info.get("max_buckets", 0)),
        "suspended": bool(info.get("suspended")),
        "key_present": key_id in keys,
        "other_keys": sorted(k for k in keys if k != key_id),
        "subusers": sorted(s.get("id", "") for s in info.get("subusers", [])),
    }


def _user_drifted(outs: Mapping[str, Any]) -> bool:
    return bool(outs.get("caps") or outs.get("suspended") or outs.get("subusers") or outs.get("other_keys")
                or outs.get("max_buckets") != NO_BUCKETS or outs.get("key_present") is False)


@provisioned("credentials", ADMIN_FIELDS)
class RgwUserProvider(ResourceProvider):
    """CRUD for `User`; stateless, so the pickled provider holds no client and no credentials."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known input; unknowns (preview) pass."""
        inputs = {"region": "us-east-1", "ca_file": None, **news}
        return CheckResult(inputs, check_user(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """uid and endpoint replace; caps, subusers, extra keys, suspension or a lost key read back are a change."""
        replaces = [k for k in ("uid", "endpoint") if differs(olds.get(k), news.get(k))]
        changed = [k for k in ("region", "ca_file", "credentials") if differs(olds.get(k), news.get(k))]
        drift = olds.get("caps") is not None and _user_drifted(olds)
        return DiffResult(changes=bool(replaces or changed or drift), replaces=replaces,
                          delete_before_replace=bool(replaces) and "uid" not in replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """A user with one generated key, no caps, no buckets of its own; an existing uid is never taken over."""
        failures = check_user(props)
        if failures:
            raise RgwAdminError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))
        admin = _Admin(props)
        uid = props["uid"]
        where = f"RGW user '{uid}' at {props['endpoint']}"
        with _errors("look up", where, props):
            if _user(admin, uid) is not None:
                raise RgwAdminError(f"{where} already exists: it is never taken over (its secret is unknown to the "
                                    f"program). Remove it (`radosgw-admin user rm --uid={uid}`) or pick another name")
        try:
            with _errors("create", where, props):
                created = admin.user_op("PUT", {"uid": uid, "display-name": f"homelab-backups {uid}",
                                                "key-type": "s3", "generate-key": "true",
                                                "max-buckets": str(NO_BUCKETS)})
                key = next(k for k in created.get("keys", []) if k.get("user") == uid)
                outs = _user_state(admin, {**props, "secret_access_key": key["secret_key"]}, key["access_key"])
            if outs is None:
                raise RgwAdminError(f"{where} vanished right after creation")
        except (RgwAdminError, StopIteration) as exc:
            reason = str(exc) if isinstance(exc, RgwAdminError) else f"RGW returned no S3 key for {where}"
            raise RgwAdminError(f"{reason}; {_remove_user(admin, uid)}") from None
        return CreateResult(uid, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The user as RGW holds it; gone when removed on the server."""
        props = {**props, "uid": props.get("uid") or id_}
        with _errors("read", f"RGW user '{id_}'", props):
            outs = _user_state(_Admin(props), props, props.get("access_key_id"))
        return read_found(id_, outs, USER_INPUTS)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Caps, subusers and extra keys removed, bucket creation disabled, the user re-enabled."""
        admin = _Admin(news)
        uid = news["uid"]
        props = {**news, "secret_access_key": olds.get("secret_access_key")}
        key_id = olds.get("access_key_id")
        with _errors("update", f"RGW user '{uid}'", props):
            before = _user_state(admin, props, key_id)
            if before is None or not before["key_present"]:
                raise RgwAdminError(f"RGW user '{uid}' or its key is gone from {news['endpoint']}: run `pulumi "
                                    "refresh` so the next `pulumi up` recreates it (with a new key)")
            if before["caps"]:
                admin.user_op("DELETE", {"uid": uid, "caps": "", "user-caps": ";".join(before["caps"])})
            for subuser in before["subusers"]:
                admin.user_op("DELETE", {"uid": uid, "subuser": subuser, "purge-keys": "true"})
            for other in before["other_keys"]:
                admin.user_op("DELETE", {"uid": uid, "key": "", "access-key": other})
            admin.user_op("POST", {"uid": uid, "max-buckets": str(NO_BUCKETS), "suspended": "false"})
            outs = _user_state(admin, props, key_id)
        if outs is None:
            raise RgwAdminError(f"RGW user '{uid}' disappeared during the update")
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Remove the user (never its data: tool users own no buckets); a user already gone is fine."""
        uid = props.get("uid") or id_
        with _errors("delete", f"RGW user '{uid}'", props):
            try:
                _Admin(props).user_op("DELETE", {"uid": uid, "purge-data": "false"})
            except _ApiError as exc:
                if not (exc.status == 404 or exc.code == "NoSuchUser"):
                    raise


def _remove_user(admin: _Admin, uid: str) -> str:
    try:
        admin.user_op("DELETE", {"uid": uid, "purge-data": "false"})
    except _ApiError as exc:
        if exc.status == 404 or exc.code == "NoSuchUser":
            return "nothing was left behind"
        return f"and user '{uid}' could NOT be removed ({exc}); remove it by hand before retrying"
    except (http_errors().HTTPError, OSError) as exc:
        return f"and user '{uid}' could NOT be removed ({type(exc).__name__}); remove it by hand before retrying"
    return "nothing was left behind"


def _read_policy(admin: _Admin, bucket: str) -> dict[str, Any] | None:
    try:
        return json.loads(admin.s3().get_bucket_policy(Bucket=bucket)["Policy"])
    except boto_errors().ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise


def _policy_state(admin: _Admin, props: Mapping[str, Any]) -> dict[str, Any]:
    document = _read_policy(admin, props["bucket"])
    expected = bucket_policy(props["bucket"], props["grants"])
    return {**{k: props.get(k) for k in POLICY_INPUTS},
            "grants": props["grants"] if normal_policy(document) == normal_policy(expected) else "drifted",
            "policy": document}


@provisioned("credentials", ADMIN_FIELDS)
class RgwBucketPolicyProvider(ResourceProvider):
    """CRUD for `BucketPolicy`; the whole document is written at once, so it is all or nothing."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known input (grants by index); unknowns (preview) pass."""
        inputs = {"region": "us-east-1", "ca_file": None, **news}
        return CheckResult(inputs, check_policy(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """bucket and endpoint replace; grants update in place; a document edited on the server is a change."""
        replaces = [k for k in ("bucket", "endpoint") if differs(olds.get(k), news.get(k))]
        changed = [k for k in ("region", "grants", "ca_file", "credentials") if differs(olds.get(k), news.get(k))]
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Write the bucket's policy (replacing any document there: the program owns the bucket's policy)."""
        return CreateResult(props["bucket"], self._write(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The bucket's document as RGW holds it; gone when the bucket has no policy."""
        props = {**props, "bucket": props.get("bucket") or id_}
        with _errors("read the policy of", f"bucket '{props['bucket']}'", props):
            outs = _policy_state(_Admin(props), props)
        if outs["policy"] is None:
            return ReadResult("", {})
        return ReadResult(id_, outs, {k: outs[k] for k in POLICY_INPUTS})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Write the document again."""
        return UpdateResult(self._write(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Remove the policy; a bucket or policy already gone is fine."""
        bucket = props.get("bucket") or id_
        with _errors("remove the policy of", f"bucket '{bucket}'", props):
            try:
                _Admin(props).s3().delete_bucket_policy(Bucket=bucket)
            except boto_errors().ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("NoSuchBucket", "NoSuchBucketPolicy"):
                    raise

    @staticmethod
    def _write(props: Mapping[str, Any]) -> dict[str, Any]:
        failures = check_policy(props)
        if failures:
            raise RgwAdminError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))
        admin = _Admin(props)
        with _errors("write the policy of", f"bucket '{props['bucket']}' at {props['endpoint']}", props):
            admin.s3().put_bucket_policy(Bucket=props["bucket"],
                                         Policy=json.dumps(bucket_policy(props["bucket"], props["grants"])))
            return _policy_state(admin, props)


class User(pulumi.dynamic.Resource, module="rgw", name="User"):
    """One RGW user for one tool identity: one S3 key, no admin caps, no buckets of its own."""

    uid: pulumi.Output[str]
    """The RGW user id; also the resource id and the bucket-policy principal."""
    endpoint: pulumi.Output[str]
    region: pulumi.Output[str]
    ca_file: pulumi.Output[str | None]
    credentials_entry: pulumi.Output[str | None]
    """The stack's `credentials.<entry>` the provider reads the admin key from (provider configuration)."""
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    """Generated by RGW at create; always a secret."""
    caps: pulumi.Output[list[str]]
    max_buckets: pulumi.Output[int]
    suspended: pulumi.Output[bool]
    key_present: pulumi.Output[bool]
    other_keys: pulumi.Output[list[str]]
    subusers: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, *, uid: pulumi.Input[str], endpoint: pulumi.Input[str],
                 region: pulumi.Input[str] = "us-east-1", credentials: pulumi.Input[Mapping[str, str]] | None = None,
                 credentials_entry: str | None = None, ca_file: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"uid": uid, "endpoint": endpoint, "region": region, "ca_file": ca_file,
                 "credentials": secret(credentials), CREDENTIALS_ENTRY: credentials_entry,
                 **dict.fromkeys(("access_key_id", "secret_access_key", "caps", "max_buckets", "suspended",
                                  "key_present", "other_keys", "subusers"))}
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["credentials", "secret_access_key"]))
        super().__init__(RgwUserProvider(), resource_name, props, opts)

    @property
    def credential(self) -> pulumi.Output:
        """Secret Output {access_key_id, secret_access_key}, the shape every mover takes."""
        return pulumi.Output.secret(pulumi.Output.all(self.access_key_id, self.secret_access_key).apply(
            lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))


class BucketPolicy(pulumi.dynamic.Resource, module="rgw", name="BucketPolicy"):
    """The bucket's one policy: each tool user's prefix statements (read-write or read-only)."""

    bucket: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    region: pulumi.Output[str]
    grants: pulumi.Output[Any]
    """[{uid, prefix, access}]; `drifted` when the document on the server differs."""
    ca_file: pulumi.Output[str | None]
    credentials_entry: pulumi.Output[str | None]
    policy: pulumi.Output[dict]
    """The document as read back."""

    def __init__(self, resource_name: str, *, bucket: pulumi.Input[str], endpoint: pulumi.Input[str],
                 grants: pulumi.Input[list[Mapping[str, str]]], region: pulumi.Input[str] = "us-east-1",
                 credentials: pulumi.Input[Mapping[str, str]] | None = None, credentials_entry: str | None = None,
                 ca_file: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"bucket": bucket, "endpoint": endpoint, "region": region, "grants": grants, "ca_file": ca_file,
                 "credentials": secret(credentials), CREDENTIALS_ENTRY: credentials_entry, "policy": None}
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["credentials"]))
        super().__init__(RgwBucketPolicyProvider(), resource_name, props, opts)
