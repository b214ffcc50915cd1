"""PBS objects of the offsite copy: an S3 endpoint (`/config/s3`), an S3-backed datastore (`/config/datastore`),
a remote (`/config/remote`) on `proxmox.pbs`, and on the remote PBS the sync user and token the remote signs in with
(`/access/users`, `/access/acl`).

Secrets are write-only on PBS: GET never returns an S3 endpoint's secret key, a remote's password or a token's value.
They are secret inputs (or, for the token, a secret output of its creation), sent on every create and update, kept
in the state encrypted, and never compared with the server (a secret changed in the web UI is not seen by refresh;
the next `up` that changes anything on the object writes ours again).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from providers import wire
from providers.proxmox.service import (
    TOKEN,
    CollectionProvider,
    CollectionResource,
    Field,
    ProxmoxResourceError,
    api_errors,
)

if TYPE_CHECKING:
    from proxmoxer import ProxmoxAPI

__all__ = ["Remote", "S3Datastore", "S3Endpoint", "SyncToken"]

TASK_TIMEOUT_S = 600.0
SYNC_ROLES = ("DatastoreBackup", "DatastoreReader")
"""Roles a sync token may hold on its datastores: DatastoreBackup for a push target, DatastoreReader for a pull
source. Nothing broader: the token must not prune or delete what it copies."""


class _WriteOnlySecret(CollectionProvider):
    """An entry with one write-only secret (`secret_input` -> API `secret_api`) and an id posted as `id_param`."""

    secret_input: ClassVar[str]
    secret_api: ClassVar[str]
    id_param: ClassVar[str] = "id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        return CheckResult(wire.keep_secrets(news, result.inputs), result.failures)

    def _body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._body(props), self.secret_api: str(wire.reveal(props[self.secret_input]))}

    def _post(self, api: ProxmoxAPI, props: Mapping[str, Any]) -> None:
        api(self.path).post(**{self.id_param: props["job_id"]}, **self._body(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(_id, olds, news)
        if wire.differs(olds.get(self.secret_input), news.get(self.secret_input)):
            return DiffResult(changes=True, replaces=result.replaces, delete_before_replace=True)
        return result


@wire.provisioned(TOKEN, ("token_secret",))
class S3EndpointProvider(_WriteOnlySecret):
    """An S3 endpoint PBS datastores write through (Configuration > S3 Endpoints), with a writer's bucket key."""

    service = "PBS"
    path = "config/s3"
    kind = "PBS S3 endpoint"
    ui_location = "Configuration > S3 Endpoints"
    fields = (Field("endpoint", "endpoint"), Field("access_key", "access-key"), Field("region", "region"),
              Field("port", "port", int), Field("path_style", "path-style", bool, False),
              Field("fingerprint", "fingerprint"), Field("provider_quirks", "provider-quirks"))
    required = ("endpoint", "access_key", "secret_key")
    secret_input = "secret_key"
    secret_api = "secret-key"

    def _problems(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        endpoint = props.get("endpoint")
        if isinstance(endpoint, str) and "://" in endpoint:
            return [("endpoint", f"PBS takes a host name, not a URL: write {urllib.parse.urlsplit(endpoint).hostname!r}"
                     " (and the port in port)")]
        return []


@wire.provisioned(TOKEN, ("token_secret",))
class RemoteProvider(_WriteOnlySecret):
    """Another PBS this one syncs with (Configuration > Remotes), signing in with an API token."""

    service = "PBS"
    path = "config/remote"
    kind = "PBS remote"
    ui_location = "Configuration > Remotes"
    fields = (Field("host", "host"), Field("port", "port", int), Field("auth_id", "auth-id"),
              Field("fingerprint", "fingerprint"), Field("comment", "comment"))
    required = ("host", "auth_id", "password")
    secret_input = "password"
    secret_api = "password"
    id_param = "name"


@wire.provisioned(TOKEN, ("token_secret",))
class S3DatastoreProvider(CollectionProvider):
    """A datastore with an S3 backend. Path and backend are taken at creation only (a change replaces it). Creation
    and removal are PBS worker tasks: their outcome is the task's exit status. Removal drops the configuration and
    keeps the data in the bucket; creating it again re-uses what is there (`reuse-datastore`)."""

    service = "PBS"
    path = "config/datastore"
    kind = "PBS datastore"
    ui_location = "Datastore > Options"
    fields = (Field("cache_path", "path"), Field("backend", "backend"), Field("comment", "comment"))
    required = ("cache_path", "backend")
    replaces = ("job_id", "cache_path", "backend")

    def _requirement(self, name: str) -> str:
        return "the datastore's name" if name == "job_id" else f"the {name}"

    def _problems(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        backend = props.get("backend")
        if isinstance(backend, str):
            parts = dict(p.split("=", 1) for p in backend.split(",") if "=" in p)
            if parts.get("type") != "s3" or not parts.get("client") or not parts.get("bucket"):
                return [("backend", f"{backend!r} is not an S3 backend: write type=s3,client=<endpoint id>,"
                         "bucket=<bucket>")]
        return []

    def _post(self, api: ProxmoxAPI, props: Mapping[str, Any]) -> None:
        upid = api(self.path).post(name=props["job_id"], **self._body(props), **{"reuse-datastore": 1})
        self._wait(api, upid, props, "create")

    def _put(self, api: ProxmoxAPI, id_: str, body: dict[str, Any], cleared: list[str]) -> None:
        changes = {k: v for k, v in body.items() if k == "comment"}
        gone = [k for k in cleared if k == "comment"]
        if changes or gone:
            self._entry(api, id_).put(**changes, **({"delete": ",".join(gone)} if gone else {}))

    def _remove(self, api: ProxmoxAPI, id_: str) -> None:
        # keep-job-configs: PBS otherwise deletes every sync, prune and verify job of the datastore with it, and a
        # replacement (a new cache path or bucket) would leave those jobs in the state but gone from PBS.
        self._wait(api, self._entry(api, id_).delete(**{"keep-job-configs": 1}), {"job_id": id_}, "delete")

    def _wait(self, api: ProxmoxAPI, upid: Any, props: Mapping[str, Any], action: str) -> None:
        if not isinstance(upid, str) or not upid.startswith("UPID:"):
            return
        node = upid.split(":")[1]
        deadline = time.monotonic() + TASK_TIMEOUT_S
        while True:
            status = api(f"nodes/{node}/tasks/{urllib.parse.quote(upid, safe='')}/status").get()
            if status.get("status") == "stopped":
                break
            if time.monotonic() > deadline:
                raise ProxmoxResourceError(f"{self._label(props)}: {action} task {upid} still running after "
                                           f"{TASK_TIMEOUT_S:.0f} s; see Administration > Tasks")
            time.sleep(0.5)
        if status.get("exitstatus") != "OK":
            raise ProxmoxResourceError(f"{self._label(props)}: {action} failed in task {upid}: "
                                       f"{status.get('exitstatus')}; fix the S3 endpoint or bucket named there "
                                       "(Administration > Tasks shows the log)")


@wire.provisioned(TOKEN, ("token_secret",))
class SyncTokenProvider(CollectionProvider):
    """On a remote PBS: a user and API token holding `role` on `datastores` only, for `proxmox.pbs` to sync with.

    The id is the token id (`user!token_name`). The token's value is returned once, at creation: it is a secret
    output. A token deleted in the web UI reads as a changed `token_name`, so `up` replaces it (and the remote entry
    that signs in with it gets the new value)."""

    service = "PBS"
    path = "access/users"
    kind = "PBS sync token"
    ui_location = "Configuration > Access Control"
    fields = ()
    replaces = ("job_id", "user", "token_name", "connection")

    def _label(self, props: Mapping[str, Any]) -> str:
        context = props.get("context")
        prefix = f"{context}: " if isinstance(context, str) and context else ""
        return f"{prefix}{self.kind} {props.get('user')}!{props.get('token_name')}"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        values = {**news, "job_id": f"{news.get('user')}!{news.get('token_name')}"}
        failures = [CheckFailure(k, f"required: the {k}") for k in ("user", "token_name", "datastores", "role")
                    if values.get(k) is None]
        user, role, stores = values.get("user"), values.get("role"), values.get("datastores")
        if isinstance(user, str) and wire.known(user) and (user.count("@") != 1 or "!" in user):
            failures.append(CheckFailure("user", f"{user!r} is not a PBS user id: write name@realm, e.g. "
                                         "hlb-sync@pbs"))
        if isinstance(role, str) and wire.known(role) and role not in SYNC_ROLES:
            failures.append(CheckFailure("role", f"{role!r} is more than a sync needs: use one of {list(SYNC_ROLES)}"))
        if isinstance(stores, list) and wire.known(stores) and not stores:
            failures.append(CheckFailure("datastores", "name at least one datastore the token may sync"))
        return CheckResult(values, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        names = ("user", "token_name", "datastores", "role", "comment", "connection", "context",
                 wire.CREDENTIALS_ENTRY)
        changed = [n for n in names if wire.differs(olds.get(n), news.get(n))]
        replaces = [n for n in changed if n in self.replaces]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def _paths(self, props: Mapping[str, Any]) -> list[str]:
        return [f"/datastore/{s}" for s in sorted(wire.reveal(props["datastores"]))]

    def _grant(self, api: ProxmoxAPI, props: Mapping[str, Any], path: str) -> None:
        # PBS gives a token the intersection of its own ACLs and its user's: both need the role.
        for auth in (props["user"], f"{props['user']}!{props['token_name']}"):
            api("access/acl").put(path=path, role=props["role"], propagate=1, **{"auth-id": auth})

    def create(self, props: dict[str, Any]) -> CreateResult:
        """User, token, then the ACLs; on any refusal the user (and with it the token) is removed again."""
        api = self._api(props)
        user_made = False
        try:
            api("access/users").post(userid=props["user"], comment=props.get("comment") or "homelab-backups sync")
            user_made = True
            answer = api(f"access/users/{urllib.parse.quote(props['user'], safe='')}/token/"
                         f"{urllib.parse.quote(props['token_name'], safe='')}").post(
                comment=props.get("comment") or "homelab-backups sync")
            for path in self._paths(props):
                self._grant(api, props, path)
        except api_errors() as exc:
            if user_made:
                self._remove_user(api, props["user"], f"{props['user']}!{props['token_name']}")
            raise self._fail(props, "create", exc) from exc
        outs = {k: v for k, v in props.items() if k != TOKEN}
        return CreateResult(str(answer["tokenid"]), {**outs, "token_id": answer["tokenid"],
                                                     "token_secret": answer["value"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The user, whether its token still exists, and the datastores both hold the role on."""
        user, token_name = id_.split("!", 1)
        props = {**props, "user": props.get("user") or user, "token_name": props.get("token_name") or token_name}
        base = f"access/users/{urllib.parse.quote(user, safe='')}"
        api = self._api(props)
        try:
            api(base).get()
        except api_errors() as exc:
            if self._missing(exc):
                return ReadResult(None, {})  # type: ignore[arg-type]
            raise self._fail(props, "read", exc) from exc
        try:
            api(f"{base}/token/{urllib.parse.quote(token_name, safe='')}").get()
            live_token: str | None = token_name
        except api_errors()[0] as exc:
            if not self._missing(exc):
                raise self._fail(props, "read", exc) from exc
            live_token = None
        except api_errors()[1] as exc:
            raise self._fail(props, "read", exc) from exc
        role = props.get("role")
        held: dict[str, set[str]] = {}
        for entry in api("access/acl").get():
            if entry.get("roleid") == role and str(entry.get("path", "")).startswith("/datastore/"):
                held.setdefault(entry["path"].removeprefix("/datastore/"), set()).add(entry.get("ugid"))
        stores = sorted(s for s, who in held.items() if {user, id_} <= who)
        state = {**{k: v for k, v in props.items() if k != TOKEN}, "token_name": live_token, "datastores": stores,
                 "job_id": id_}
        inputs = {k: v for k, v in state.items() if k not in ("token_id", "token_secret")}
        return ReadResult(id_, state, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Grant the datastores added (and a changed role), revoke the ones no longer listed."""
        api = self._api(news)
        auths = (news["user"], f"{news['user']}!{news['token_name']}")
        wanted = {(a, p, news["role"]) for a in auths for p in self._paths(news)}
        try:
            present = {(e["ugid"], e["path"], e["roleid"]) for e in api("access/acl").get() if e.get("ugid") in auths
                       and str(e.get("path", "")).startswith("/datastore/")}
            acl = api("access/acl")
            for auth, path, role in sorted(present - wanted):
                acl.put(path=path, role=role, delete=1, **{"auth-id": auth})
            for auth, path, role in sorted(wanted - present):
                acl.put(path=path, role=role, propagate=1, **{"auth-id": auth})
        except api_errors() as exc:
            raise self._fail(news, "update", exc) from exc
        return UpdateResult({**{k: v for k, v in news.items() if k != TOKEN}, "token_id": olds.get("token_id"),
                             "token_secret": olds.get("token_secret")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke the ACLs and remove the user (its tokens go with it); already gone is fine."""
        try:
            # After a refresh that found the token gone, the state has no token_name: the id still names it.
            self._remove_user(self._api(props), id_.split("!", 1)[0], id_)
        except api_errors() as exc:
            if not self._missing(exc):
                raise self._fail(props, "delete", exc) from exc

    def _remove_user(self, api: ProxmoxAPI, user: str, token_id: str) -> None:
        for entry in api("access/acl").get():
            if entry.get("ugid") in (user, token_id):
                api("access/acl").put(path=entry["path"], role=entry["roleid"], delete=1,
                                      **{"auth-id": entry["ugid"]})
        api(f"access/users/{urllib.parse.quote(user, safe='')}").delete()


# --- resources ---------------------------------------------------------------------------------------------------


class S3Endpoint(CollectionResource, module="proxmox", name="S3Endpoint"):
    """A PBS S3 endpoint (`/config/s3/{id}`) holding one writer's bucket key."""

    provider_class: ClassVar[type[CollectionProvider]] = S3EndpointProvider

    endpoint: pulumi.Output[str]
    """Host name of the S3 API."""
    access_key: pulumi.Output[str]
    """The writer key's id (secret in the state)."""
    secret_key: pulumi.Output[str]
    """The writer key's secret (secret; PBS never returns it)."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 endpoint_id: str, endpoint: str, access_key: pulumi.Input[str], secret_key: pulumi.Input[str],
                 region: str | None = None, port: int | None = None, path_style: bool | None = None,
                 fingerprint: str | None = None, provider_quirks: str | None = None, context: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, wire.with_secret_outputs(opts, "access_key", "secret_key"),
                      connection=connection, credentials_entry=credentials_entry, job_id=endpoint_id,
                      endpoint=endpoint, access_key=pulumi.Output.secret(access_key),
                      secret_key=pulumi.Output.secret(secret_key), region=region, port=port, path_style=path_style,
                      fingerprint=fingerprint, provider_quirks=provider_quirks, context=context)


class S3Datastore(CollectionResource, module="proxmox", name="S3Datastore"):
    """A PBS datastore whose chunks live in an S3 bucket (`/config/datastore/{name}`, backend type s3)."""

    provider_class: ClassVar[type[CollectionProvider]] = S3DatastoreProvider

    cache_path: pulumi.Output[str]
    """The local cache directory."""
    backend: pulumi.Output[str]
    """`type=s3,client=<endpoint id>,bucket=<bucket>`."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 datastore: str, cache_path: str, endpoint_id: pulumi.Input[str], bucket: pulumi.Input[str],
                 comment: str | None = None, context: str | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        backend = pulumi.Output.all(endpoint_id, bucket).apply(lambda v: f"type=s3,client={v[0]},bucket={v[1]}")
        self._declare(resource_name, opts, connection=connection, credentials_entry=credentials_entry,
                      job_id=datastore, cache_path=cache_path, backend=backend, comment=comment, context=context)


class Remote(CollectionResource, module="proxmox", name="Remote"):
    """A PBS remote (`/config/remote/{name}`) signing in with a sync token."""

    provider_class: ClassVar[type[CollectionProvider]] = RemoteProvider

    host: pulumi.Output[str]
    """The remote's host name."""
    auth_id: pulumi.Output[str]
    """The token id it signs in with."""
    password: pulumi.Output[str]
    """The token's value (secret; PBS never returns it)."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 name: str, host: str, auth_id: pulumi.Input[str], password: pulumi.Input[str],
                 port: int | None = None, fingerprint: str | None = None, comment: str | None = None,
                 context: str | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        self._declare(resource_name, wire.with_secret_outputs(opts, "password"), connection=connection,
                      credentials_entry=credentials_entry, job_id=name, host=host, port=port, auth_id=auth_id,
                      password=pulumi.Output.secret(password), fingerprint=fingerprint, comment=comment,
                      context=context)


class SyncToken(CollectionResource, module="proxmox", name="SyncToken"):
    """On a remote PBS: the user and API token a sync signs in with, holding `role` on `datastores` only."""

    provider_class: ClassVar[type[CollectionProvider]] = SyncTokenProvider

    token_id: pulumi.Output[str]
    """`user!token_name`."""
    token_secret: pulumi.Output[str]
    """The token's value (secret; returned by PBS once)."""
    datastores: pulumi.Output[list[str]]
    """The datastores it holds the role on."""

    def __init__(self, resource_name: str, *, connection: pulumi.Input[Mapping[str, Any]], credentials_entry: str,
                 user: str, token_name: str, datastores: list[str], role: str, comment: str | None = None,
                 context: str | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"connection": connection, "credentials_entry": credentials_entry, "user": user,
                 "token_name": token_name, "datastores": list(datastores), "role": role, "comment": comment,
                 "context": context, "token_id": None, "token_secret": None}
        Resource.__init__(self, self.provider_class(), resource_name, props,
                          wire.with_secret_outputs(opts, "token_secret"))
