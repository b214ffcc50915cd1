"""Per-tool Wasabi identities as a Pulumi dynamic provider on Wasabi's IAM API (AWS IAM compatible, boto3).

Each `User` is one IAM user with one inline policy allowing one bucket and one prefix (the shared S3 prefix policy:
ListBucket only by prefix and delimiter, object verbs under the prefix, never bucket configuration, retention or
legal holds) and one access key. The destination's root or IAM-admin key creates them and never reaches a tool.

IAM returns an access key's secret only when the key is created, so the provider keeps it as a secret output;
`read` reports drift in the policy (edited, extra inline or attached policies, the key deactivated or deleted) and a
user deleted on the server reads as gone, so the next `up` recreates it with a new key.
Wasabi IAM: https://docs.wasabi.com/docs/how-do-i-use-aws-iam-with-wasabi (endpoint iam.wasabisys.com, us-east-1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from plan.capabilities import s3_prefix_policy
from providers.minio_admin import check_inputs, normal_policy
from providers.wire import CREDENTIALS_ENTRY, boto_errors, differs, provisioned, read_found, require_to_read, secret

if TYPE_CHECKING:
    import botocore.exceptions



INPUT_KEYS = ("user_name", "endpoint", "bucket", "prefix", "access", "ca_file", "credentials")
REPLACE_KEYS = ("user_name", "endpoint")
"""An identity lives in one account under one name: changing either makes a new identity (and a new key)."""
IAM_PATH = "/homelab-backups/"
"""Every tool user lives under this IAM path, so an audit finds them (`aws iam list-users --path-prefix`)."""
IAM_REGION = "us-east-1"
"""Wasabi's IAM, like AWS's, is global and signed for us-east-1."""
_DENIED = {"AccessDenied", "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId"}


class WasabiIamError(Exception):
    """A refusal or failure of the IAM API, phrased with the identity, the endpoint and the fix."""


def user_policy(bucket: str, prefix: str, access: str) -> dict:
    """The one inline policy a tool user holds: the shared S3 prefix policy (see plan.capabilities)."""
    return s3_prefix_policy(bucket, prefix, write=access == "write")


def policy_name(user_name: str) -> str:
    """The inline policy's name: one per user, named after it."""
    return f"{user_name}-prefix"


def _iam(props: Mapping[str, Any]) -> Any:
    """An IAM client for the resource's endpoint; built per call so the pickled provider holds no secret."""
    import boto3
    from botocore.config import Config as BotoConfig

    creds = props["credentials"]
    return boto3.client(
        "iam", endpoint_url=props["endpoint"], region_name=IAM_REGION, verify=props.get("ca_file") or True,
        aws_access_key_id=creds["access_key_id"], aws_secret_access_key=creds["secret_access_key"],
        config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60))


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _gone(exc: botocore.exceptions.ClientError) -> bool:
    return _code(exc) == "NoSuchEntity"


@contextmanager
def _iam_errors(action: str, props: Mapping[str, Any]) -> Iterator[None]:
    where = f"IAM user '{props.get('user_name')}' at {props.get('endpoint')}"
    try:
        yield
    except boto_errors().ClientError as exc:
        code = _code(exc)
        if code in _DENIED:
            raise WasabiIamError(
                f"cannot {action} {where}: the IAM API refused the admin key ({code}). Give the destination's "
                "credentials the account's root key or an IAM user with IAMFullAccess: `pulumi config set --secret "
                "--path 'credentials.<destination>.access_key_id' ...`") from None
        if code == "LimitExceeded":
            raise WasabiIamError(f"cannot {action} {where}: the account's IAM limit is reached ({code}); remove "
                                 "unused users or keys") from None
        raise WasabiIamError(f"cannot {action} {where}: the IAM API answered {code or exc}") from None
    except (boto_errors().BotoCoreError, OSError) as exc:
        raise WasabiIamError(
            f"cannot reach {props.get('endpoint')} to {action} {where} ({type(exc).__name__}): check admin_endpoint "
            "and, for a private CA, the destination's ca_file") from None


def _inline(iam: Any, user: str) -> dict[str, Any]:
    names = iam.list_user_policies(UserName=user)["PolicyNames"]
    documents = {}
    for name in names:
        document = iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"]
        documents[name] = json.loads(document) if isinstance(document, str) else document
    return documents


def _state(iam: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Outputs as IAM reports them, or None when the user is gone."""
    user = props["user_name"]
    try:
        iam.get_user(UserName=user)
    except boto_errors().ClientError as exc:
        if _gone(exc):
            return None
        raise
    inline = _inline(iam, user)
    attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    key_id = props.get("access_key_id")
    expected = user_policy(props["bucket"], props["prefix"], props["access"])
    drifted = (set(inline) != {policy_name(user)}
               or normal_policy(inline.get(policy_name(user))) != normal_policy(expected) or bool(attached))
    return {
        **{k: props.get(k) for k in INPUT_KEYS},
        "access": "drifted" if drifted else props["access"],
        "access_key_id": key_id,
        "secret_access_key": props.get("secret_access_key"),
        "policy_name": policy_name(user),
        "inline_policies": sorted(inline),
        "attached_policies": sorted(attached),
        "key_status": keys.get(key_id, "Deleted") if key_id else "Deleted",
        "other_keys": sorted(k for k in keys if k != key_id),
    }


def _remove(iam: Any, user: str) -> None:
    """Everything IAM requires gone before a user can be deleted, then the user; what is gone already is fine."""
    def tolerant(call: Any, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except boto_errors().ClientError as exc:
            if not _gone(exc):
                raise
            return None

    listed = tolerant(iam.list_access_keys, UserName=user)
    for key in (listed or {}).get("AccessKeyMetadata", []):
        tolerant(iam.delete_access_key, UserName=user, AccessKeyId=key["AccessKeyId"])
    for name in (tolerant(iam.list_user_policies, UserName=user) or {}).get("PolicyNames", []):
        tolerant(iam.delete_user_policy, UserName=user, PolicyName=name)
    for attached in (tolerant(iam.list_attached_user_policies, UserName=user) or {}).get("AttachedPolicies", []):
        tolerant(iam.detach_user_policy, UserName=user, PolicyArn=attached["PolicyArn"])
    tolerant(iam.delete_user, UserName=user)


def _raise_on_failures(props: Mapping[str, Any]) -> None:
    failures = check_inputs(props)
    if failures:
        raise WasabiIamError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))


@provisioned("credentials", ("access_key_id", "secret_access_key"))
class WasabiUserProvider(ResourceProvider):
    """CRUD for `User`; stateless, so the pickled provider holds no client and no credentials."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """One failure per bad known input; unknowns (preview) pass."""
        inputs = {**news}
        inputs.setdefault("ca_file", None)
        return CheckResult(inputs, check_inputs(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Name and endpoint replace; scope changes update the policy in place; drift read back is a change."""
        replaces = [k for k in REPLACE_KEYS if differs(olds.get(k), news.get(k))]
        changed = [k for k in INPUT_KEYS if k not in REPLACE_KEYS and differs(olds.get(k), news.get(k))]
        if olds.get("access") == "drifted" or olds.get("key_status") not in (None, "Active"):
            changed.append("access")
        return DiffResult(changes=bool(replaces or changed), replaces=replaces,
                          delete_before_replace=bool(replaces) and "user_name" not in replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """User, inline policy and key, all or nothing; an existing user of the same name is never taken over."""
        _raise_on_failures(props)
        iam = _iam(props)
        user = props["user_name"]
        with _iam_errors("look up", props):
            try:
                iam.get_user(UserName=user)
                exists = True
            except boto_errors().ClientError as exc:
                if not _gone(exc):
                    raise
                exists = False
        if exists:
            raise WasabiIamError(
                f"IAM user '{user}' already exists at {props['endpoint']}: it is never taken over (its key's secret "
                f"is unknown to the program). Delete it (`aws iam delete-user --user-name {user}` against the IAM "
                "endpoint, after its keys and policies) or adopt it with `User.get`")
        try:
            with _iam_errors("create", props):
                iam.create_user(UserName=user, Path=IAM_PATH,
                                Tags=[{"Key": "managed-by", "Value": "homelab-backups"}])
                iam.put_user_policy(UserName=user, PolicyName=policy_name(user),
                                    PolicyDocument=json.dumps(user_policy(props["bucket"], props["prefix"],
                                                                          props["access"])))
                key = iam.create_access_key(UserName=user)["AccessKey"]
                outs = _state(iam, {**props, "access_key_id": key["AccessKeyId"],
                                    "secret_access_key": key["SecretAccessKey"]})
            if outs is None:
                raise WasabiIamError(f"IAM user '{user}' vanished from {props['endpoint']} right after creation")
        except WasabiIamError as exc:
            raise WasabiIamError(f"{exc}; {_rollback(iam, user)}") from None
        return CreateResult(user, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The user as IAM holds it; gone when deleted on the server."""
        props = {**props, "user_name": props.get("user_name") or id_}
        require_to_read(props, ("endpoint", "bucket", "prefix", "access", "credentials"), f"IAM user '{id_}'",
                        WasabiIamError)
        with _iam_errors("read", props):
            outs = _state(_iam(props), props)
        return read_found(id_, outs, INPUT_KEYS)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rewrite the policy, remove policies added out of band, reactivate the key."""
        _raise_on_failures(news)
        iam = _iam(news)
        user = news["user_name"]
        props = {**news, "access_key_id": olds.get("access_key_id"), "secret_access_key": olds.get("secret_access_key")}
        with _iam_errors("update", props):
            before = _state(iam, props)
            if before is None or before["key_status"] == "Deleted":
                raise WasabiIamError(f"IAM user '{user}' or its key is gone from {news['endpoint']}: run `pulumi "
                                     "refresh` so the next `pulumi up` recreates it (with a new key)")
            iam.put_user_policy(UserName=user, PolicyName=policy_name(user),
                                PolicyDocument=json.dumps(user_policy(news["bucket"], news["prefix"], news["access"])))
            for name in before["inline_policies"]:
                if name != policy_name(user):
                    iam.delete_user_policy(UserName=user, PolicyName=name)
            for arn in before["attached_policies"]:
                iam.detach_user_policy(UserName=user, PolicyArn=arn)
            if before["key_status"] != "Active":
                iam.update_access_key(UserName=user, AccessKeyId=props["access_key_id"], Status="Active")
            outs = _state(iam, props)
        if outs is None:
            raise WasabiIamError(f"IAM user '{user}' disappeared from {news['endpoint']} during the update")
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Keys, policies, then the user; a user already gone is fine."""
        with _iam_errors("delete", props):
            _remove(_iam(props), props.get("user_name") or _id)


def _rollback(iam: Any, user: str) -> str:
    try:
        _remove(iam, user)
    except (boto_errors().ClientError, boto_errors().BotoCoreError, OSError) as exc:
        return (f"and what was created could NOT be removed ({type(exc).__name__}); delete IAM user '{user}' (its "
                "keys and policies first) by hand before retrying")
    return "nothing was left behind"


class User(pulumi.dynamic.Resource, module="wasabi", name="User"):
    """One Wasabi IAM identity allowed one bucket prefix: read-write for a backup tool, read-only for checks."""

    user_name: pulumi.Output[str]
    """The IAM user name; also the resource id."""
    endpoint: pulumi.Output[str]
    """The IAM endpoint (https://iam.wasabisys.com)."""
    bucket: pulumi.Output[str]
    prefix: pulumi.Output[str]
    access: pulumi.Output[str]
    """`write` or `read`; `drifted` when the server's policies no longer match."""
    ca_file: pulumi.Output[str | None]
    credentials_entry: pulumi.Output[str | None]
    """The stack's `credentials.<entry>` the provider reads the admin key from (provider configuration)."""
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    """Returned by IAM once, at create; always a secret."""
    policy_name: pulumi.Output[str]
    inline_policies: pulumi.Output[list[str]]
    attached_policies: pulumi.Output[list[str]]
    key_status: pulumi.Output[str]
    """Active, Inactive, or Deleted (the key is gone: recreate the user)."""
    other_keys: pulumi.Output[list[str]]
    """Keys created on the user out of band (reported, never used)."""

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
                 "ca_file": ca_file, "credentials": secret(credentials), CREDENTIALS_ENTRY: credentials_entry,
                 **dict.fromkeys(("access_key_id", "secret_access_key", "policy_name", "inline_policies",
                                  "attached_policies", "key_status", "other_keys"))}
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["credentials", "secret_access_key"]))
        super().__init__(WasabiUserProvider(), resource_name, props, opts)

    @property
    def credential(self) -> pulumi.Output:
        """Secret Output {access_key_id, secret_access_key}, the shape every mover takes."""
        return pulumi.Output.secret(pulumi.Output.all(self.access_key_id, self.secret_access_key).apply(
            lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))
