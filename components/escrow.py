"""Escrow into the secret store: every value the rendered ExternalSecrets read, written where they read it.

The items come from the ExternalSecrets themselves (`KubernetesTarget.escrowed`: remote key -> property ->
value), so the store holds exactly the keys and properties they name. Each item is one resource: a rotated key
updates it, and an item whose Secret is no longer declared is deleted or left in the store as
`secret_store.on_delete` says (`keep` is Pulumi's retain-on-delete: the engine forgets it, the store keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from inventory.models import KubernetesSecretStore, OnePasswordSecretStore
from manifests.drills import ENCRYPTION_PASSWORD, ENCRYPTION_SALT
from manifests.escrow import item_suffix
from manifests.meta import LABEL_MANAGED_BY, MANAGER
from plan.model import DatasetPlan
from providers.onepassword import Item
from stack.config import destination_credentials
from stack.naming import CONNECT_TOKEN_CREDENTIAL

ESCROW_LABEL = "backup.homelab/escrow"
"""On Kubernetes store Secrets: marks an item as written by the escrow (value `true`)."""


@dataclass(frozen=True)
class SecretEscrowArgs:
    """The configured store and what to write into it."""

    store: KubernetesSecretStore | OnePasswordSecretStore
    items: Mapping[str, Mapping[str, pulumi.Input[str]]]
    """Remote key -> property -> (secret) value, as the ExternalSecrets read them."""
    token: pulumi.Input[str] | None = None
    """The Connect token (a secret) of a `onepassword` store."""


class SecretEscrow(pulumi.ComponentResource):
    """One store item per remote key the ExternalSecrets read, with one field (or Secret key) per property."""

    items: dict[str, pulumi.Resource]
    """Remote key -> the resource holding that item."""

    def __init__(self, name: str, args: SecretEscrowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:escrow:SecretEscrow", name, None, opts)
        store = args.store
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=store.on_delete == "keep")
        self.items = {}
        if isinstance(store, KubernetesSecretStore):
            provider = k8s.Provider(f"{name}-cluster", context=store.context, namespace=store.namespace,
                                    enable_server_side_apply=True, opts=pulumi.ResourceOptions(parent=self))
            for key, fields in sorted(args.items.items()):
                self.items[key] = k8s.core.v1.Secret(
                    f"{name}-{item_suffix(key)}",
                    metadata={"name": key, "namespace": store.namespace,
                              "labels": {LABEL_MANAGED_BY: MANAGER, ESCROW_LABEL: "true"},
                              # The program owns the item whole: a rotated value overwrites an edit made by hand.
                              "annotations": {"pulumi.com/patchForce": "true"}},
                    type="Opaque",
                    string_data={prop: pulumi.Output.secret(value) for prop, value in sorted(fields.items())},
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(provider=provider)))
        else:
            if args.token is None:
                raise ValueError(f"{name}: a onepassword store needs the Connect token")
            for key, fields in sorted(args.items.items()):
                self.items[key] = Item(
                    f"{name}-{item_suffix(key)}", connect_host=store.connect_host, vault=store.vault, title=key,
                    fields={prop: pulumi.Output.secret(value) for prop, value in sorted(fields.items())},
                    token=args.token, ca_file=store.ca_file, opts=child)
        self.register_outputs({"items": sorted(self.items)})


def cloud_sync_items(dataset: str, plan: DatasetPlan, encryption: pulumi.Output[dict],
                     prefix: str) -> dict[str, dict[str, pulumi.Output[str]]]:
    """Items for NAS cloud sync keys, which no ExternalSecret reads unless the copy is drilled:
    `<prefix><dataset>-<destination>-cloudsync` with the drill's field names, so every offsite copy's password
    and salt live in the store too (they cannot be regenerated: the files are encrypted with them)."""
    items = {}
    for copy in plan.copies:
        if copy.tool == "cloudsync" and copy.offsite:
            keys = encryption.apply(lambda e, d=copy.destination: e[d])
            items[f"{prefix}{dataset}-{copy.destination}-cloudsync"] = {
                ENCRYPTION_PASSWORD.name: pulumi.Output.secret(keys.apply(lambda k: k["password"])),
                ENCRYPTION_SALT.name: pulumi.Output.secret(keys.apply(lambda k: k["salt"]))}
    return items


def connect_token(store: KubernetesSecretStore | OnePasswordSecretStore | None) -> pulumi.Output[str] | None:
    """The Connect token as a secret Output (stack config or environment), or None when no Connect store is set."""
    if not isinstance(store, OnePasswordSecretStore):
        return None
    return pulumi.Output.secret(destination_credentials(*CONNECT_TOKEN_CREDENTIAL).apply(lambda c: c["token"]))
