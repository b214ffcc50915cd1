"""Kopiur for one PVC: a repository per destination (or a replica of the NAS one), its snapshot policy, schedule,
maintenance, restore and scheduled drill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import PvcSource
from manifests import kopiur, volsync
from plan.units import ProtectionUnit
from providers.generated import GeneratedSecret
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class KopiurArgs:
    unit: ProtectionUnit
    """The PVC's protection unit (mover kopiur): copies with their times, replicas, object names, the drill."""
    credentials: Mapping[str, pulumi.Output]
    """Per destination name: secret Output of {access_key_id, secret_access_key} scoped to this writer (a replica's
    key is the one its RepositoryReplication writes with)."""
    target: KubernetesTarget
    """Where the objects go (rendered or applied)."""
    healthchecks: PingBase | None = None
    """Where its drill reports; None: no pings."""
    ca_bundles: Mapping[str, str] = field(default_factory=dict)
    """Per destination name with a private CA: the PEM bundle its movers must trust."""


class KopiurBackup(pulumi.ComponentResource):
    """Everything Kopiur needs to protect one PVC: one kopia repository per destination, or one on the NAS and its
    replicas offsite."""

    repository_passwords: pulumi.Output[dict]
    """Secret: destination name -> repository password, for escrow (a replica opens with its source's)."""

    def __init__(self, name: str, args: KopiurArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:kopiur:KopiurBackup", name, None, opts)
        unit, target = args.unit, args.target
        assert isinstance(unit.source, PvcSource)
        passwords: dict[str, pulumi.Output[str]] = {}
        for copy in kopiur.written(unit):
            # Protected: losing the password makes every snapshot in the repository (and its replicas) unreadable.
            password = GeneratedSecret(f"{name}-{copy.destination}-password",
                                       opts=pulumi.ResourceOptions(parent=self, protect=True))
            passwords[copy.destination] = password.value
        for copy in unit.copies:
            passwords[copy.destination] = passwords[copy.replica_of or copy.destination]
            child = f"{name}-{copy.destination}"
            values: dict[str, pulumi.Input[str]] = {"repository_password": passwords[copy.destination]}
            creds = args.credentials.get(copy.destination)
            if creds is not None:
                values["access_key_id"] = creds.apply(lambda c: c["access_key_id"])
                values["secret_access_key"] = creds.apply(lambda c: c["secret_access_key"])
            target.declare_secret(f"{child}-repository", kopiur.repository_secret(unit, copy), values, parent=self)
            if copy.private_ca:
                target.declare_config_map(f"{child}-ca", volsync.ca_config_map(
                    unit.source.namespace, copy, args.ca_bundles[copy.destination]), parent=self)
        for obj in kopiur.unit_objects(unit, target.settings):
            target.declare(f"{name}-{obj['kind'].lower()}-{obj['metadata']['name']}", obj, parent=self)
        drill = kopiur.drill_objects(unit, args.healthchecks is not None)
        for obj in drill:
            target.declare(f"{name}-drill-{obj['kind'].lower()}-{obj['metadata']['name']}", obj, parent=self)
        declare_ping_secrets(name, unit, drill, args.healthchecks, target, self)
        self.repository_passwords = pulumi.Output.secret(passwords)
        self.register_outputs({"repository_passwords": self.repository_passwords})
