"""pgBackRest for one CloudNativePG cluster via the dalibo CNPG-I plugin: stanza, credentials, schedules, and the
integrity checks and restore drill its tier asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import PostgresSource
from manifests import checks, drills, pgbackrest, volsync
from plan.units import ProtectionUnit
from providers.generated import GeneratedSecret
from stack.kubernetes import KubernetesTarget


@dataclass(frozen=True)
class PgBackRestArgs:
    unit: ProtectionUnit
    """The cluster's protection unit: repositories with their times, Secret names, checks and the drilled copy."""
    credentials: Mapping[str, pulumi.Output]
    """Per destination name: secret Output of {access_key_id, secret_access_key} for this cluster's writer."""
    target: KubernetesTarget
    """Where the objects go (rendered or applied)."""
    healthchecks: PingBase | None = None
    """Where its check and drill jobs report; None: no pings."""
    reader_credentials: Mapping[str, pulumi.Output] = field(default_factory=dict)
    """Per destination name: secret Output of the read-only key the check and drill jobs use."""
    ca_bundles: Mapping[str, str] = field(default_factory=dict)
    """Per private-CA destination: its PEM bundle, for the ConfigMap the sidecar and the Jobs read."""


class PgBackRestBackup(pulumi.ComponentResource):
    """One S3 repository per destination, each encrypted with its own generated cipher passphrase."""

    cipher_passphrases: pulumi.Output[dict]
    """Secret: destination name -> repo-cipher-pass, for escrow (without it the repository is unreadable)."""
    cluster_plugin: dict
    """The Cluster `spec.plugins` entry to add in the GitOps repository (the Cluster is not ours). Plan data, not an
    Output: an Output of a plain dict becomes one Output per nested value, for nothing."""
    cluster_ca_sources: list
    """The Cluster's `projectedVolumeTemplate.sources` entries carrying private CAs to the sidecar ([] if none)."""

    def __init__(self, name: str, args: PgBackRestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:pgbackrest:PgBackRestBackup", name, None, opts)
        ds, target = args.unit, args.target
        readers = {job.secret for job in (*ds.checks, *((ds.drill,) if ds.drill else ()))}
        passphrases: dict[str, pulumi.Output[str]] = {}
        for index, copy in enumerate(ds.copies, start=1):
            child = f"{name}-{copy.destination}"
            cipher = GeneratedSecret(f"{child}-cipher", opts=pulumi.ResourceOptions(parent=self, protect=True))
            passphrases[copy.destination] = cipher.value
            creds = args.credentials[copy.destination]
            values = {"cipher_pass": cipher.value,
                      "access_key_id": creds.apply(lambda c: c["access_key_id"]),
                      "secret_access_key": creds.apply(lambda c: c["secret_access_key"])}
            target.declare_secret(f"{child}-credentials", pgbackrest.credentials_secret(ds, copy), values, parent=self)
            if pgbackrest.reader_secret_name(ds, copy) in readers:
                reader = args.reader_credentials[copy.destination]
                target.declare_secret(f"{child}-credentials-ro", pgbackrest.reader_secret(ds, copy), {
                    "cipher_pass": cipher.value,
                    "reader_access_key_id": reader.apply(lambda c: c["access_key_id"]),
                    "reader_secret_access_key": reader.apply(lambda c: c["secret_access_key"])}, parent=self)
            if copy.private_ca:
                target.declare_config_map(f"{child}-ca", volsync.ca_config_map(
                    ds.source.namespace, copy, args.ca_bundles[copy.destination]), parent=self)
            for i, obj in enumerate(pgbackrest.scheduled_backups(ds, copy, index)):
                target.declare(f"{child}-schedule-{i}", obj, parent=self)
        target.declare(f"{name}-stanza", pgbackrest.stanza(ds), parent=self)
        target.declare(f"{name}-plugin-config", pgbackrest.plugin_config(ds), parent=self)
        self._declare_verification(name, args)
        if not target.renders:
            self._patch_cluster(name, args)
        self.cipher_passphrases = pulumi.Output.secret(passphrases)
        self.cluster_plugin = pgbackrest.cluster_plugin_snippet(ds, pgbackrest.stanza_name(ds))
        self.cluster_ca_sources = pgbackrest.cluster_ca_sources(ds)
        self.register_outputs({"cipher_passphrases": self.cipher_passphrases, "cluster_plugin": self.cluster_plugin,
                               "cluster_ca_sources": self.cluster_ca_sources})

    def _declare_verification(self, name: str, args: PgBackRestArgs) -> None:
        """`pgbackrest verify` of each repository and a restore drill of the first, when the tier asks for them."""
        pings = args.healthchecks is not None
        check_jobs = checks.checks(args.unit, pings)
        drill = drills.drill(args.unit, pings)
        drill_objects = list(drill.objects) if drill else []
        for role, objects in (("check", check_jobs), ("drill", drill_objects)):
            for i, obj in enumerate(objects):
                args.target.declare(f"{name}-{role}-{i}", obj, parent=self)
        declare_ping_secrets(name, args.unit, [*check_jobs, *drill_objects], args.healthchecks, args.target, self)

    def _patch_cluster(self, name: str, args: PgBackRestArgs) -> None:
        """Apply mode: put the plugin entry in the user's Cluster by server-side apply, owning only `spec.plugins`.

        The list is atomic (one owner, replaced whole), so the live Cluster is read first and the patch carries
        every plugin it already lists, with ours added or updated.
        """
        source = args.unit.source
        assert isinstance(source, PostgresSource)
        snippet = pgbackrest.cluster_plugin_snippet(args.unit, pgbackrest.stanza_name(args.unit))
        provider = args.target.provider(source.namespace)
        live = _LiveCluster(f"{name}-cluster", source.namespace, source.cluster,
                            pulumi.ResourceOptions(parent=self, provider=provider))
        plugins = live.spec.apply(lambda spec: pgbackrest.merged_plugins((spec or {}).get("plugins"), snippet))
        ca_sources = pgbackrest.cluster_ca_sources(args.unit)
        patch: dict = {"plugins": plugins}
        if ca_sources:
            # Also atomic: the user's projected sources are kept, ours added by ConfigMap name.
            patch["projectedVolumeTemplate"] = live.spec.apply(lambda spec: {"sources": pgbackrest.merged_ca_sources(
                ((spec or {}).get("projectedVolumeTemplate") or {}).get("sources"), ca_sources)})
        k8s.apiextensions.CustomResourcePatch(
            f"{name}-cluster-plugin", api_version="postgresql.cnpg.io/v1", kind="Cluster",
            metadata={"name": source.cluster, "namespace": source.namespace,
                      # The Cluster belongs to the GitOps repository; take over only the fields patched here.
                      "annotations": {"pulumi.com/patchForce": "true"}},
            spec=patch,
            opts=pulumi.ResourceOptions(parent=self, provider=provider))


class _LiveCluster(pulumi.CustomResource):
    """The user's CNPG Cluster as the API server holds it: read on every run, never created, changed or deleted."""

    spec: pulumi.Output[dict]

    def __init__(self, name: str, namespace: str, cluster: str, opts: pulumi.ResourceOptions) -> None:
        # A read (`id` given) of the provider's own Cluster type; the properties are listed so their values come
        # back. No apiVersion/kind inputs: with them the provider would not take the name from the id.
        props = {"apiVersion": None, "kind": None, "metadata": None, "spec": None}
        super().__init__("kubernetes:postgresql.cnpg.io/v1:Cluster", name, props,
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=f"{namespace}/{cluster}")))
