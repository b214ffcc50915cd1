"""Compose the components for a whole inventory: buckets first, then what writes into them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.alerts import AlertsArgs, BackupAlerts
from components.buckets import OffsiteBucket, OffsiteBucketArgs
from components.dataset import ProtectedDataset
from components.escrow import SecretEscrow, SecretEscrowArgs, cloud_sync_items, connect_token
from components.exports import ExportArgs, ExportJob
from components.healthchecks import PingBase, ping_base
from components.hosts import HostArgs, HostBackup
from components.kopiur import KopiurArgs, KopiurBackup
from components.nas_config import NasConfigArgs, NasConfigBackup
from components.pgbackrest import PgBackRestArgs, PgBackRestBackup
from components.proxmox import CoverageArgs, CoverageCheck, declare_proxmox
from components.proxmox_drill import GuestDrills, GuestDrillsArgs
from components.proxmox_offsite import declare_pbs_offsite
from components.truenas import TruenasArgs, TruenasProtection, nas_connection
from components.volsync import VolSyncArgs, VolSyncBackup
from inventory.models import Inventory
from inventory.proxmox import AUDIT_CREDENTIAL, TOKEN_FIELDS
from inventory.proxmox_drill import DRILL_CREDENTIAL
from manifests.escrow import remote_key_prefix
from plan.capabilities import identities_of
from plan.model import BucketPlan, Plan
from plan.units import ProtectionUnit
from runbook.contract import PING_BASE_SECRET
from stack.config import destination_credentials, read_ca_bundle, read_pem, supplied_identity
from stack.kubernetes import KubernetesTarget
from stack.naming import ADMIN_FIELDS, ROLES


@dataclass
class Estate:
    """What the program built, for exports."""

    buckets: dict[str, OffsiteBucket] = field(default_factory=dict)
    escrow: dict[str, pulumi.Output] = field(default_factory=dict)
    """Dataset -> secret Output of its repository passwords / cipher passphrases per destination."""
    credentials: dict[str, dict[str, pulumi.Output]] = field(default_factory=dict)
    """Dataset -> destination -> secret Output of the writer's scoped S3 credential (for the secret store)."""
    reader_credentials: dict[str, dict[str, pulumi.Output]] = field(default_factory=dict)
    """Dataset -> destination -> secret Output of the read-only key its check and drill jobs use."""
    cluster_plugins: dict[str, dict] = field(default_factory=dict)
    """Postgres dataset -> the CNPG Cluster `spec.plugins` entry to add in the GitOps repository."""
    cluster_ca_sources: dict[str, list] = field(default_factory=dict)
    """Per postgres dataset with a private-CA destination: the Cluster's projected CA sources to add."""
    ping: PingBase | None = None
    """Where jobs and tasks ping Healthchecks (its key a secret); None without Healthchecks."""
    store: SecretEscrow | None = None
    """The items written into `secret_store`; None without one."""
    hosts: dict[str, HostBackup] = field(default_factory=dict)
    """Host dataset -> its component (the files to place on the host, and the filled secret files)."""

    def secrets(self) -> dict[str, pulumi.Output]:
        """The `secrets` output: escrow per dataset, and the Healthchecks ping base (never in `runbook`)."""
        result = dict(self.escrow)
        if self.ping is not None:
            result[PING_BASE_SECRET] = self.ping.base_url()
        return result


def build_estate(inventory: Inventory, plan: Plan) -> Estate:
    """Declare every resource of the inventory. Structure comes from the plan, never from Output values."""
    estate = Estate()
    store = inventory.secret_store
    target = KubernetesTarget(inventory.kubernetes, remote_key_prefix=remote_key_prefix(store and store.kind))
    for bucket_plan in plan.buckets:
        dest = inventory.destination(bucket_plan.destination)
        fields = ADMIN_FIELDS.get(dest.kind)
        admin = destination_credentials(dest.name, fields) if fields else None
        estate.buckets[bucket_plan.key] = OffsiteBucket(bucket_plan.name, OffsiteBucketArgs(
            bucket_plan, admin, account=getattr(dest, "account_id", None), ca_file=getattr(dest, "ca_file", None),
            jurisdiction=getattr(dest, "jurisdiction", "default"), supplied=_supplied_identities(bucket_plan, admin)))

    ping = estate.ping = ping_base(inventory)
    nas_link = None
    if inventory.truenas is not None and any(u.kind in ("truenas", "nas-config") for u in plan.units):
        nas_link = nas_connection(inventory.truenas, destination_credentials("truenas", ("api_key",)).apply(
            lambda c: c["api_key"]))
    for unit in plan.units:
        owner = ProtectedDataset(unit.dataset, unit)
        children = pulumi.ResourceOptions(parent=owner)
        creds = _writer_credentials(estate, unit)
        readers = _writer_credentials(estate, unit, role="reader") if creds else {}
        if creds:
            estate.credentials[unit.dataset] = creds
            estate.reader_credentials[unit.dataset] = readers
        if unit.kind == "pvc" and unit.tool == "kopiur":
            estate.escrow[unit.dataset] = KopiurBackup(unit.dataset, KopiurArgs(
                unit, creds, target, ping, ca_bundles=_ca_bundles(inventory, unit)), children).repository_passwords
        elif unit.kind == "pvc":
            backup = VolSyncBackup(
                unit.dataset, VolSyncArgs(unit, creds, target, ping, reader_credentials=readers,
                                          ca_bundles=_ca_bundles(inventory, unit)), children)
            estate.escrow[unit.dataset] = backup.repository_passwords
        elif unit.kind == "postgres":
            pg = PgBackRestBackup(
                unit.dataset, PgBackRestArgs(unit, creds, target, ping, reader_credentials=readers,
                                             ca_bundles=_ca_bundles(inventory, unit)), children)
            estate.escrow[unit.dataset] = pg.cipher_passphrases
            estate.cluster_plugins[unit.dataset] = pg.cluster_plugin
            if any(copy.private_ca for copy in unit.copies):
                estate.cluster_ca_sources[unit.dataset] = pg.cluster_ca_sources
        elif unit.kind == "truenas":
            assert nas_link is not None  # the inventory requires a truenas section for NAS datasets
            protection = TruenasProtection(
                unit.dataset, TruenasArgs(unit, nas_link, creds, ping, target=target, reader_credentials=readers),
                children)
            estate.escrow[unit.dataset] = protection.encryption
            if store is not None:
                target.escrowed |= cloud_sync_items(unit.dataset, unit.plan, protection.encryption,
                                                    target.remote_key_prefix)
        elif unit.kind == "host":
            estate.hosts[unit.dataset] = HostBackup(unit.dataset, HostArgs(unit, creds, ping), children)
            estate.escrow[unit.dataset] = estate.hosts[unit.dataset].repository_passwords
        elif unit.kind == "export":
            nas = inventory.truenas
            assert nas is not None  # the inventory requires it for export datasets
            ExportJob(unit.dataset, ExportArgs(unit, nas, target, ping), children)
        elif unit.kind == "nas-config":
            assert nas_link is not None  # the inventory requires a truenas section for it
            NasConfigBackup(unit.dataset, NasConfigArgs(unit, nas_link, ping), children)
    if plan.proxmox is not None and inventory.proxmox is not None:
        px = plan.proxmox
        keys = {s.destination: estate.buckets[s.bucket_key].writer_credentials[s.writer_key] for s in px.offsite.s3}
        after = declare_pbs_offsite(inventory.proxmox, px.offsite, px.datastores, keys)
        declare_proxmox(inventory.proxmox, px.units, px.jobs, px.syncs, px.datastores, after)
        pve = inventory.proxmox
        ca_bundle = read_pem("proxmox.ca_file", pve.ca_file) if pve.ca_file else None
        if pve.coverage_token_id and ping is not None:
            CoverageCheck("proxmox-coverage", CoverageArgs(
                inventory.monitoring.namespace, px.coverage_schedule, pve.api_url,
                pve.coverage_token_id, destination_credentials(AUDIT_CREDENTIAL, TOKEN_FIELDS).apply(
                    lambda c: c["token_secret"]), px.coverage_slug, ping, target, ca_bundle, pve.verify_tls))
        if pve.drill is not None and px.drills:
            GuestDrills("proxmox-drills", GuestDrillsArgs(
                inventory.monitoring.namespace, px.drills, pve.api_url, pve.drill.token_id,
                destination_credentials(DRILL_CREDENTIAL, TOKEN_FIELDS).apply(lambda c: c["token_secret"]), ping,
                target, ca_bundle, pve.verify_tls))
    if inventory.monitoring.prometheus_rules:
        alerting = [unit for unit in plan.units if unit.plan.alerts]
        if alerting:
            BackupAlerts("backup-alerts", AlertsArgs(alerting, inventory.monitoring.namespace, target))
    if store is not None:
        estate.store = SecretEscrow("secret-store", SecretEscrowArgs(store, target.escrowed, connect_token(store)))
    return estate


def _writer_credentials(estate: Estate, unit: ProtectionUnit, role: str = "writer") -> dict[str, pulumi.Output]:
    """Per destination, the credential of this unit's writer (or its read-only twin) in that destination's bucket."""
    creds = {}
    for destination, (bucket, writer) in unit.credentials.items():
        offsite = estate.buckets[bucket]
        creds[destination] = (offsite.writer_credentials if role == "writer" else offsite.reader_credentials)[writer]
    return creds


def _ca_bundles(inventory: Inventory, unit: ProtectionUnit) -> dict[str, str]:
    """The PEM bundle of each private-CA destination this dataset copies to, read from its `ca_file`."""
    bundles = {}
    for copy in unit.copies:
        if copy.private_ca:
            path = getattr(inventory.destination(copy.destination), "ca_file", None)
            bundles[copy.destination] = read_ca_bundle(copy.destination, path)
    return bundles


def _supplied_identities(plan: BucketPlan, admin: pulumi.Output | None) -> dict[str, dict[str, pulumi.Output]] | None:
    """Servers the program cannot create keys on: each writer's two keys from the stack's credentials."""
    if identities_of(plan.kind, plan.flavour, plan.admin_api) != "supplied":
        return None
    return {w.key: {role: supplied_identity(plan.destination, role, w.key, admin, bucket=plan.name, prefix=w.prefix)
                    for role in ROLES} for w in plan.writers}
