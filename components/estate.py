"""Compose the components for a whole inventory: buckets first, then what writes into them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.alerts import AlertsArgs, BackupAlerts
from components.buckets import OffsiteBucket, OffsiteBucketArgs
from components.dataset import ProtectedDataset
from components.exports import ExportArgs, ExportJob
from components.healthchecks import PingBase, ping_base
from components.kubernetes import KubernetesTarget
from components.pgbackrest import PgBackRestArgs, PgBackRestBackup
from components.stack_config import ROLES, destination_credentials, read_ca_bundle, supplied_identity
from components.truenas import TruenasArgs, TruenasProtection, nas_connection
from components.volsync import VolSyncArgs, VolSyncBackup
from inventory.models import Dataset, Inventory
from plan.capabilities import identities_of
from plan.model import BucketPlan, DatasetPlan, Plan
from runbook.contract import PING_BASE_SECRET

ADMIN_FIELDS = {"s3-compatible": ("access_key_id", "secret_access_key"), "b2": ("key_id", "key")}
"""Destination kinds whose admin credential the program passes to a dynamic provider (others use their
provider's own configuration: CLOUDFLARE_API_TOKEN, AWS_* or `pulumi config set aws:...`)."""


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
    cluster_plugins: dict[str, pulumi.Output] = field(default_factory=dict)
    cluster_ca_sources: dict[str, pulumi.Output] = field(default_factory=dict)
    """Per postgres dataset with a private-CA destination: the Cluster's projected CA sources to add."""
    """Postgres dataset -> the CNPG Cluster `spec.plugins` entry to add in the GitOps repository."""
    ping: PingBase | None = None
    """Where jobs and tasks ping Healthchecks (its key a secret); None without Healthchecks."""

    def secrets(self) -> dict[str, pulumi.Output]:
        """The `secrets` output: escrow per dataset, and the Healthchecks ping base (never in `runbook`)."""
        result = dict(self.escrow)
        if self.ping is not None:
            result[PING_BASE_SECRET] = self.ping.base_url()
        return result


def build_estate(inventory: Inventory, plan: Plan) -> Estate:
    """Declare every resource of the inventory. Structure comes from the plan, never from Output values."""
    estate = Estate()
    target = KubernetesTarget(inventory.kubernetes)
    for bucket_plan in plan.buckets:
        dest = inventory.destination(bucket_plan.destination)
        fields = ADMIN_FIELDS.get(dest.kind)
        admin = destination_credentials(dest.name, fields) if fields else None
        estate.buckets[bucket_plan.key] = OffsiteBucket(bucket_plan.name, OffsiteBucketArgs(
            bucket_plan, admin, account=getattr(dest, "account_id", None), ca_file=getattr(dest, "ca_file", None),
            jurisdiction=getattr(dest, "jurisdiction", "default"), supplied=_supplied_identities(bucket_plan, admin)))

    ping = estate.ping = ping_base(inventory)
    nas_link = None
    if inventory.truenas is not None and any(d.source.kind == "truenas" for d in inventory.datasets):
        nas_link = nas_connection(inventory.truenas, destination_credentials("truenas", ("api_key",)).apply(
            lambda c: c["api_key"]))
    for ds in inventory.datasets:
        dp = plan.dataset(ds.name)
        owner = ProtectedDataset(ds, {c.destination: c.restore_mbps for c in dp.copies})
        children = pulumi.ResourceOptions(parent=owner)
        # An export writes only to the NAS; its offsite copies are its target dataset's writer.
        creds = _writer_credentials(estate, ds, dp) if ds.source.kind != "export" else {}
        readers = _writer_credentials(estate, ds, dp, role="reader") if creds else {}
        if creds:
            estate.credentials[ds.name] = creds
            estate.reader_credentials[ds.name] = readers
        if ds.source.kind == "pvc":
            backup = VolSyncBackup(
                ds.name, VolSyncArgs(ds, dp, creds, target, ping, reader_credentials=readers,
                                        ca_bundles=_ca_bundles(inventory, dp)), children)
            estate.escrow[ds.name] = backup.repository_passwords
        elif ds.source.kind == "postgres":
            pg = PgBackRestBackup(
                ds.name, PgBackRestArgs(ds, dp, creds, target, ping, reader_credentials=readers,
                                        ca_bundles=_ca_bundles(inventory, dp)), children)
            estate.escrow[ds.name] = pg.cipher_passphrases
            estate.cluster_plugins[ds.name] = pg.cluster_plugin
            if any(copy.private_ca for copy in dp.copies):
                estate.cluster_ca_sources[ds.name] = pg.cluster_ca_sources
        elif ds.source.kind == "truenas":
            assert nas_link is not None  # the inventory requires a truenas section for NAS datasets
            protection = TruenasProtection(
                ds.name, TruenasArgs(ds, dp, nas_link, creds, ping, target=target,
                                     drill_namespace=inventory.monitoring.namespace, reader_credentials=readers),
                children)
            estate.escrow[ds.name] = protection.encryption
        elif ds.source.kind == "export":
            nas = inventory.truenas
            assert nas is not None  # the inventory requires it for export datasets
            ExportJob(ds.name, ExportArgs(ds, dp, nas, target, ping), children)
    if inventory.monitoring.prometheus_rules:
        alerting = [(ds, plan.dataset(ds.name)) for ds in inventory.datasets if plan.dataset(ds.name).alerts]
        if alerting:
            BackupAlerts("backup-alerts", AlertsArgs(alerting, inventory.monitoring.namespace, target))
    return estate


def _writer_credentials(estate: Estate, ds: Dataset, dp: DatasetPlan, role: str = "writer") -> dict[str, pulumi.Output]:
    """Per destination, the credential of this dataset's writer (or its read-only twin) in that destination's bucket."""
    creds = {}
    for copy in dp.copies:
        bucket = estate.buckets.get(f"{copy.destination}-tier{ds.tier}")
        if bucket is not None:
            keys = bucket.writer_credentials if role == "writer" else bucket.reader_credentials
            creds[copy.destination] = keys[f"{ds.name}-{copy.tool}"]
    return creds


def _ca_bundles(inventory: Inventory, dp: DatasetPlan) -> dict[str, str]:
    """The PEM bundle of each private-CA destination this dataset copies to, read from its `ca_file`."""
    bundles = {}
    for copy in dp.copies:
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
