"""1Password items through a Connect server: where the rendered ExternalSecrets of the `onepassword` provider read.

The External Secrets onepassword provider resolves `remoteRef.key` to an item title in the store's vaults and
`property` to a field label of that item, so one item per remote key carries one concealed field per property.
Titles must be unique in a vault (the provider refuses to choose between two items), so `create` never takes over
an existing item of the same title: it may hold a password someone still needs.

Requests go through the official SDK (`onepasswordconnectsdk`); its client is built inside each method from the
resource's own inputs, so the pickled provider holds neither a token nor a connection.
API: https://developer.1password.com/docs/connect/connect-api-reference/
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from onepasswordconnectsdk import models as op
    from onepasswordconnectsdk.client import Client

# The Connect SDK and httpx (0.3 s of imports) are imported where a request is made: the program declares Items and
# the provider's check and diff (all a preview runs) need neither.

INPUT_KEYS = ("connect_host", "vault", "title", "fields", "token", "ca_file")
REPLACE_KEYS = ("connect_host", "vault")
"""Another server or vault is another item; the old one is deleted after the new one exists."""
CATEGORY = "SECURE_NOTE"
"""A note carries only the fields we give it (a LOGIN or PASSWORD item brings built-in fields of its own)."""
FIELD_TYPE = "CONCEALED"
TAG = "homelab-backups"
"""Every item the program writes carries this tag, so a user can list them in the 1Password apps."""
_HOST = re.compile(r"^https?://[^/\s]+(/[^\s]*)?$")
_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STATUS = re.compile(r"Received (\d{3})")


class OnePasswordError(Exception):
    """A Connect request failed; the message names the item, the vault and what to do."""


def check_inputs(props: Mapping[str, Any]) -> list[CheckFailure]:
    """One failure per bad known input, naming the property; unknown values (preview) pass."""
    failures: list[CheckFailure] = []
    value = wire.reveal(props.get("connect_host"))
    if wire.known(value) and not (isinstance(value, str) and _HOST.match(value)):
        failures.append(CheckFailure("connect_host", f"must be the Connect server's http(s):// URL, got {value!r}"))
    for key in ("vault", "title"):
        value = wire.reveal(props.get(key))
        if wire.known(value) and not (isinstance(value, str) and value.strip()):
            failures.append(CheckFailure(key, f"must be a non-empty string, got {value!r}"))
    token = props.get("token")
    if wire.known(token) and not (isinstance(wire.reveal(token), str) and wire.reveal(token)):
        failures.append(CheckFailure("token", "must be the Connect token: run pulumi config set --secret --path "
                                              "'credentials.onepassword.token' <token>"))
    fields = props.get("fields")
    if not wire.is_unknown(fields):
        while wire.is_secret_envelope(fields):
            fields = fields.get("value")
        if not isinstance(fields, Mapping) or not fields:
            failures.append(CheckFailure("fields", "must map at least one field label to its value"))
        else:
            bad = sorted(k for k in fields if not _LABEL.match(str(k)))
            if bad:
                failures.append(CheckFailure("fields", f"labels {bad} must be 1-100 letters, digits, '_', '.' or '-'"))
            empty = sorted(k for k, v in fields.items()
                           if wire.known(v) and not (isinstance(wire.reveal(v), str) and wire.reveal(v)))
            if empty:
                failures.append(CheckFailure("fields", f"{empty} have no value; every escrowed field needs one"))
    ca_file = wire.reveal(props.get("ca_file"))
    if ca_file is not None and wire.known(ca_file) and not (isinstance(ca_file, str) and ca_file):
        failures.append(CheckFailure("ca_file", f"must be the path of a PEM bundle or null, got {ca_file!r}"))
    return failures


def _raise_on_failures(props: Mapping[str, Any]) -> None:
    failures = check_inputs(props)
    if failures:
        raise OnePasswordError("invalid inputs: " + "; ".join(f"{f.property}: {f.reason}" for f in failures))


def _client(props: Mapping[str, Any]) -> Client:
    """A Connect client for the resource's server, built per call (the token never sits on the provider)."""
    from onepasswordconnectsdk.client import Client
    from onepasswordconnectsdk.config import ClientConfig

    ca_file = wire.reveal(props.get("ca_file"))
    config = ClientConfig(ca_file=ca_file) if ca_file else None
    return Client(wire.reveal(props["connect_host"]).rstrip("/"), wire.reveal(props["token"]), config)


def status_of(exc: Exception) -> int | None:
    """The HTTP status an SDK error carries (in its attribute, or only in its message)."""
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    found = _STATUS.search(str(exc))
    return int(found.group(1)) if found else None


@contextmanager
def _connect_errors(action: str, props: Mapping[str, Any]) -> Iterator[None]:
    where = f"1Password item {wire.reveal(props.get('title'))!r} in vault {wire.reveal(props.get('vault'))!r} " \
            f"at {wire.reveal(props.get('connect_host'))}"
    import httpx
    from onepasswordconnectsdk.errors import OnePasswordConnectSDKError

    try:
        yield
    except OnePasswordConnectSDKError as exc:
        status = status_of(exc)
        if status == 401:
            raise OnePasswordError(
                f"cannot {action} {where}: the Connect server refused the token (401). Set a current token with "
                "`pulumi config set --secret --path 'credentials.onepassword.token' <token>` (or "
                "HLB_ONEPASSWORD_TOKEN)") from None
        if status == 403:
            raise OnePasswordError(
                f"cannot {action} {where}: the token may not do this (403). Give the Connect token read and write "
                "access to the vault (1Password: Developer > Connect servers > the token's vaults)") from None
        raise OnePasswordError(f"cannot {action} {where}: {exc}".replace("\n", " ")) from None
    except (httpx.TransportError, OSError) as exc:
        raise OnePasswordError(f"cannot reach {wire.reveal(props.get('connect_host'))} to {action} {where} "
                               f"({type(exc).__name__}): check secret_store.connect_host (and its ca_file) and "
                               "that Connect runs") from None


def _vault_id(client: Client, vault: str) -> str:
    from onepasswordconnectsdk.utils import is_valid_uuid

    return vault if is_valid_uuid(vault) else client.get_vault_by_title(vault).id


def _item(props: Mapping[str, Any], vault_id: str, item_id: str | None = None) -> op.Item:
    from onepasswordconnectsdk import models as op

    fields = [op.Field(label=label, value=value, type=FIELD_TYPE)
              for label, value in sorted(wire.reveal(props["fields"]).items())]
    return op.Item(id=item_id, title=wire.reveal(props["title"]), vault=op.ItemVault(id=vault_id), category=CATEGORY,
                tags=[TAG], fields=fields)


def _outputs(props: Mapping[str, Any], item: op.Item, vault_id: str) -> dict[str, Any]:
    """State as the server reports it: the fields the item has now (edits made in 1Password show as drift)."""
    fields = {f.label: f.value for f in (item.fields or []) if f.label and f.value is not None
              and f.label in (wire.reveal(props.get("fields")) or {})}
    extra = {f.label: f.value for f in (item.fields or []) if f.label and f.value is not None
             and f.type == FIELD_TYPE and f.label not in fields}
    return {**{k: props.get(k) for k in INPUT_KEYS}, "title": item.title, "fields": {**fields, **extra},
            "item_id": item.id, "vault_id": vault_id}


def _get(client: Client, item_id: str, vault_id: str) -> op.Item | None:
    from onepasswordconnectsdk.errors import OnePasswordConnectSDKError

    try:
        return client.get_item_by_id(item_id, vault_id)
    except OnePasswordConnectSDKError as exc:
        if status_of(exc) == 404:
            return None
        raise


class OnePasswordItemProvider(ResourceProvider):
    """CRUD for `Item`; stateless, so the pickled provider holds no client and no token."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {**news}
        inputs.setdefault("ca_file", None)
        return CheckResult(inputs, check_inputs(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_KEYS if wire.differs(olds.get(k), news.get(k))]
        # A changed token changes nothing on the server, but the state must keep the current one for delete.
        changed = [k for k in INPUT_KEYS if k not in REPLACE_KEYS and wire.differs(olds.get(k), news.get(k))]
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        _raise_on_failures(props)
        client = _client(props)
        title = wire.reveal(props["title"])
        with _connect_errors("look up", props):
            vault_id = _vault_id(client, wire.reveal(props["vault"]))
            same = client.get_items(vault_id, f'title eq "{title}"')
        if same:
            raise OnePasswordError(
                f"1Password item {title!r} already exists in vault {wire.reveal(props['vault'])!r} (id "
                f"{same[0].id}); it is never overwritten, as it may hold a password someone still needs (copied by "
                "hand, or kept by secret_store.on_delete: keep). Compare it with `pulumi stack output "
                "--show-secrets secrets`, then delete or rename it in 1Password and run `pulumi up` again")
        with _connect_errors("create", props):
            created = client.create_item(vault_id, _item(props, vault_id))
        return CreateResult(created.id, _outputs(props, created, vault_id))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        wire.require_to_read(props, ("connect_host", "vault", "token"), f"1Password item {id_!r}", OnePasswordError)
        client = _client(props)
        with _connect_errors("read", props):
            vault_id = props.get("vault_id") or _vault_id(client, wire.reveal(props["vault"]))
            item = _get(client, id_, vault_id)
        return wire.read_found(id_, None if item is None else _outputs(props, item, vault_id), INPUT_KEYS)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _raise_on_failures(news)
        client = _client(news)
        with _connect_errors("update", news):
            vault_id = olds.get("vault_id") or _vault_id(client, wire.reveal(news["vault"]))
            if _get(client, id_, vault_id) is None:
                raise OnePasswordError(
                    f"1Password item {wire.reveal(news['title'])!r} ({id_}) is gone from its vault: run `pulumi "
                    "refresh` so the next `pulumi up` writes it again")
            updated = client.update_item(id_, vault_id, _item(news, vault_id, id_))
        return UpdateResult(_outputs(news, updated, vault_id))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from onepasswordconnectsdk.errors import OnePasswordConnectSDKError

        client = _client(props)
        with _connect_errors("delete", props):
            vault_id = props.get("vault_id") or _vault_id(client, wire.reveal(props["vault"]))
            if _get(client, id_, vault_id) is None:
                return
            try:
                client.delete_item(id_, vault_id)
            except OnePasswordConnectSDKError as exc:
                if status_of(exc) != 404:
                    raise


class Item(pulumi.dynamic.Resource, module="onepassword", name="Item"):
    """One 1Password item: a title the ExternalSecrets name as `remoteRef.key`, one field per `property`."""

    connect_host: pulumi.Output[str]
    vault: pulumi.Output[str]
    """Vault name or id, as configured."""
    title: pulumi.Output[str]
    fields: pulumi.Output[dict[str, str]]
    """Field label -> value; always a secret."""
    token: pulumi.Output[str]
    """The Connect token that wrote the item; always a secret."""
    ca_file: pulumi.Output[str | None]
    item_id: pulumi.Output[str]
    vault_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connect_host: pulumi.Input[str], vault: pulumi.Input[str],
                 title: pulumi.Input[str], fields: pulumi.Input[Mapping[str, pulumi.Input[str]]],
                 token: pulumi.Input[str], ca_file: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"connect_host": connect_host, "vault": vault, "title": title,
                 "fields": pulumi.Output.secret(fields), "token": pulumi.Output.secret(token), "ca_file": ca_file,
                 "item_id": None, "vault_id": None}
        super().__init__(OnePasswordItemProvider(), resource_name, props,
                         wire.with_secret_outputs(opts, "fields", "token"))
