"""VolSync for one PVC: a repository per destination, its ReplicationSource, restore, drill and check objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import PvcSource
from manifests import checks, drills, volsync
from plan.units import ProtectionUnit
from providers.generated import GeneratedSecret
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class VolSyncArgs:
    unit: ProtectionUnit
    """The PVC's protection unit: copies with their times, object names, checks and the drilled copy."""
    credentials: Mapping[str, pulumi.Output]
    """Per destination name: secret Output of {access_key_id, secret_access_key} scoped to this writer."""
    target: KubernetesTarget
    """Where the objects go (rendered or applied)."""
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
        ds, target = args.unit, args.target
        assert isinstance(ds.source, PvcSource)
        check_secrets = {job.secret for job in ds.checks}
        passwords: dict[str, pulumi.Output[str]] = {}
        for copy in ds.copies:
            names = ds.copy_objects(copy.destination)
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
            if names.reader_secret in check_secrets:
                reader = args.reader_credentials[copy.destination]
                target.declare_secret(f"{child}-repository-ro", volsync.reader_secret(ds, copy), {
                    "repository_password": password.value,
                    "reader_access_key_id": reader.apply(lambda c: c["access_key_id"]),
                    "reader_secret_access_key": reader.apply(lambda c: c["secret_access_key"])}, parent=self)
            if copy.private_ca:
                target.declare_config_map(f"{child}-ca", volsync.ca_config_map(
                    ds.source.namespace, copy, args.ca_bundles[copy.destination]), parent=self)
            target.declare(child, volsync.replication_source(ds, copy, target.settings), parent=self)
            if names.maintenance is not None:
                target.declare(f"{child}-maintenance", volsync.kopia_maintenance(ds, copy), parent=self)
            # Paused until a runbook arms it: an armed manual trigger would overwrite the live claim at once.
            target.declare(f"{child}-restore", volsync.replication_destination_restore(ds, copy), parent=self)
        pings = args.healthchecks is not None
        drill = drills.drill(ds, pings)
        drill_objects = list(drill.objects) if drill else []
        for i, obj in enumerate(drill_objects):
            target.declare(f"{name}-drill-{i}", obj, parent=self)
        check_jobs = checks.checks(ds, pings)
        for i, obj in enumerate(check_jobs):
            target.declare(f"{name}-check-{i}", obj, parent=self)
        declare_ping_secrets(name, ds, [*drill_objects, *check_jobs], args.healthchecks, target, self)
        self.repository_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({"repository_passwords": self.repository_passwords})
