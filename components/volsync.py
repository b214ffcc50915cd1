"""VolSync for one PVC: a repository per destination, its ReplicationSource, restore, drill and check objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import Dataset, PvcSource
from manifests import verification, volsync
from plan.model import DatasetPlan
from providers.generated import GeneratedSecret
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class VolSyncArgs:
    dataset: Dataset
    plan: DatasetPlan
    credentials: Mapping[str, pulumi.Output]
    """Per destination name: secret Output of {access_key_id, secret_access_key} scoped to this writer."""
    target: KubernetesTarget
    healthchecks: PingBase | None = None
    """Where its drill and check jobs report; None: no pings."""
    reader_credentials: Mapping[str, pulumi.Output] = field(default_factory=dict)
    """Per destination name: secret Output of the read-only key for this writer's prefix (integrity checks)."""
    ca_bundles: Mapping[str, str] = field(default_factory=dict)
    """Per destination name with a private CA: the PEM bundle its movers must trust."""


class VolSyncBackup(pulumi.ComponentResource):
    """Everything VolSync needs to protect one PVC, one repository (Secret + unique path) per destination."""

    repository_passwords: pulumi.Output[dict]
    """Secret: destination name -> repository password, for escrow."""

    def __init__(self, name: str, args: VolSyncArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:volsync:VolSyncBackup", name, None, opts)
        ds, target = args.dataset, args.target
        assert isinstance(ds.source, PvcSource)
        passwords: dict[str, pulumi.Output[str]] = {}
        for copy in args.plan.copies:
            child = f"{name}-{copy.destination}"
            # Protected: losing the password makes every snapshot in the repository unreadable.
            password = GeneratedSecret(f"{child}-password", opts=pulumi.ResourceOptions(parent=self, protect=True))
            passwords[copy.destination] = password.value
            values: dict[str, pulumi.Input[str]] = {"repository_password": password.value}
            creds = args.credentials.get(copy.destination)
            if creds is not None:
                values["access_key_id"] = creds.apply(lambda c: c["access_key_id"])
                values["secret_access_key"] = creds.apply(lambda c: c["secret_access_key"])
            target.declare_secret(f"{child}-repository", volsync.repository_secret(ds, copy), values, parent=self)
            check_secret = verification.check_secret_name(ds, copy)
            if args.plan.verify_every_days and check_secret != volsync.repository_secret_name(ds, copy):
                reader = args.reader_credentials[copy.destination]
                target.declare_secret(f"{child}-repository-ro", volsync.reader_secret(ds, copy), {
                    "repository_password": password.value,
                    "reader_access_key_id": reader.apply(lambda c: c["access_key_id"]),
                    "reader_secret_access_key": reader.apply(lambda c: c["secret_access_key"])}, parent=self)
            if copy.private_ca:
                target.declare_config_map(f"{child}-ca", volsync.ca_config_map(
                    ds.source.namespace, copy, args.ca_bundles[copy.destination]), parent=self)
            target.declare(child, volsync.replication_source(ds, copy, target.settings), parent=self)
            if ds.source.mover == "kopia":
                target.declare(f"{child}-maintenance", volsync.kopia_maintenance(ds, copy), parent=self)
            # Paused until a runbook arms it: an armed manual trigger would overwrite the live claim at once.
            target.declare(f"{child}-restore", volsync.replication_destination_restore(ds, copy), parent=self)
        pings = args.healthchecks is not None
        # Drill the first copy (local when there is one): restores people actually run come from there.
        drills = volsync.drill_objects(ds, args.plan.copies[0], pings, args.plan) if args.plan.drill_every_days else []
        for i, obj in enumerate(drills):
            target.declare(f"{name}-drill-{i}", obj, parent=self)
        checks = verification.integrity_checks(ds, args.plan, pings) if args.plan.verify_every_days else []
        for i, obj in enumerate(checks):
            target.declare(f"{name}-check-{i}", obj, parent=self)
        declare_ping_secrets(name, ds, [*drills, *checks], args.healthchecks, target, self)
        self.repository_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({"repository_passwords": self.repository_passwords})
