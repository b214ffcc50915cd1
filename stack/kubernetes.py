"""Where Kubernetes objects go: rendered into a Flux-ready tree, or applied to the cluster."""

from __future__ import annotations

import os
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inventory.models import Kubernetes
from manifests.escrow import remote_key_prefix, remote_refs
from manifests.secrets import SecretRef, SecretSpec, SecretTemplate, external_secret

REMOTE_KEY_PREFIX = remote_key_prefix(None)
"""External store items are named `homelab-backups/<secret name>` (README: escrow)."""

_BUILTIN_KINDS = {
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
}
"""Built-in kinds have typed classes (CustomResource needs a group/version and only carries a spec)."""
_ACCESS_KINDS = {
    ("v1", "ServiceAccount"): (k8s.core.v1.ServiceAccount, {}),
    ("rbac.authorization.k8s.io/v1", "Role"): (k8s.rbac.v1.Role, {"rules": "rules"}),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (k8s.rbac.v1.RoleBinding,
                                                      {"roleRef": "role_ref", "subjects": "subjects"}),
}
"""Kinds without a spec a job's own account needs (Kopiur's drill trigger): their top-level fields by argument."""


class KubernetesTarget:
    """Providers per namespace (render mode writes one folder per namespace), created on first use.

    Passed explicitly to every component that declares Kubernetes objects.
    """

    def __init__(self, settings: Kubernetes, parent: pulumi.Resource | None = None,
                 remote_key_prefix: str = REMOTE_KEY_PREFIX) -> None:
        self.settings = settings
        self._parent = parent
        self._providers: dict[str, k8s.Provider] = {}
        self._config_maps: dict[tuple[str, str], tuple[dict[str, Any], pulumi.Resource]] = {}
        self.remote_key_prefix = remote_key_prefix
        self.escrowed: dict[str, dict[str, pulumi.Input[str]]] = {}
        """Remote key -> property -> value of everything the declared ExternalSecrets read (for the escrow)."""

    @property
    def renders(self) -> bool:
        return self.settings.mode == "render"

    def provider(self, namespace: str) -> k8s.Provider:
        if namespace not in self._providers:
            if self.renders:
                directory = os.path.join(self.settings.render_dir, namespace)
                # The SDK fills `kubeconfig` from KUBECONFIG when left out, and the provider refuses a kubeconfig
                # next to renderYamlToDirectory: rendering must not depend on the shell (the escrow into a
                # Kubernetes store needs KUBECONFIG in the same run). Without KUBECONFIG the inputs stay as
                # they were, so existing stacks see no provider change.
                blank = {"kubeconfig": ""} if os.environ.get("KUBECONFIG") else {}
                self._providers[namespace] = k8s.Provider(
                    f"render-{namespace}", render_yaml_to_directory=directory,
                    opts=pulumi.ResourceOptions(parent=self._parent), **blank)
            else:
                self._providers[namespace] = k8s.Provider(
                    f"cluster-{namespace}", namespace=namespace, enable_server_side_apply=True,
                    opts=pulumi.ResourceOptions(parent=self._parent))
        return self._providers[namespace]

    def declare(self, name: str, obj: dict[str, Any], parent: pulumi.Resource) -> pulumi.CustomResource:
        """Declare any object (built-in or custom kind) from its plain dict, in its namespace's target."""
        access = _ACCESS_KINDS.get((obj["apiVersion"], obj["kind"]))
        if access is not None:
            kind, fields = access
            opts = pulumi.ResourceOptions(parent=parent, provider=self.provider(obj["metadata"]["namespace"]))
            return kind(name, metadata=self._owned(obj["metadata"]), opts=opts,
                        **{argument: obj[key] for key, argument in fields.items() if key in obj})
        extra = set(obj) - {"apiVersion", "kind", "metadata", "spec"}
        if extra:
            raise ValueError(f"{name}: only objects with a spec can be declared generically, not {sorted(extra)}")
        namespace = obj["metadata"]["namespace"]
        opts = pulumi.ResourceOptions(parent=parent, provider=self.provider(namespace))
        metadata = self._owned(obj["metadata"])
        builtin = _BUILTIN_KINDS.get((obj["apiVersion"], obj["kind"]))
        if builtin is not None:
            if obj["kind"] == "PersistentVolumeClaim" and not self.renders:
                # Scratch claims of restore drills bind when a drill's pod first uses them (always so with a
                # WaitForFirstConsumer class); waiting for Bound would fail `up` after the provider's timeout.
                metadata["annotations"] = {**metadata.get("annotations", {}), "pulumi.com/skipAwait": "true"}
            return builtin(name, metadata=metadata, spec=obj.get("spec"), opts=opts)
        return k8s.apiextensions.CustomResource(
            name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=metadata, spec=obj.get("spec"),
            opts=opts)

    def declare_config_map(self, name: str, obj: dict[str, Any], parent: pulumi.Resource) -> pulumi.Resource:
        """A ConfigMap (non-secret data, e.g. a CA bundle) from its plain dict; declared once per namespace and name.

        Datasets in one namespace that copy to the same private-CA destination share its CA ConfigMap: a second
        declaration would make two resources own one object (apply mode refuses the second create).
        """
        namespace = obj["metadata"]["namespace"]
        key = (namespace, obj["metadata"]["name"])
        if key in self._config_maps:
            data, declared = self._config_maps[key]
            if data != obj["data"]:
                raise ValueError(f"ConfigMap {key[0]}/{key[1]} declared twice with different data")
            return declared
        declared = k8s.core.v1.ConfigMap(name, metadata=self._owned(obj["metadata"]), data=obj["data"],
                                         opts=pulumi.ResourceOptions(parent=parent,
                                                                     provider=self.provider(namespace)))
        self._config_maps[key] = (obj["data"], declared)
        return declared

    def _owned(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Apply mode: the program owns these objects whole, so `up` takes back fields someone edited with kubectl.

        Without forcing, server-side apply refuses to change a field another field manager touched last, and drift
        found by `pulumi refresh` could never be converged.
        """
        metadata = dict(metadata)
        if not self.renders:
            metadata["annotations"] = {**metadata.get("annotations", {}), "pulumi.com/patchForce": "true"}
        return metadata

    def declare_secret(self, name: str, spec: SecretSpec, values: dict[str, pulumi.Input[str]],
                       parent: pulumi.Resource) -> pulumi.Resource:
        """A Secret in apply mode; in render mode an ExternalSecret, so nothing secret is written for git.

        `values` maps each SecretRef name (also those inside a SecretTemplate) to its (secret) value.
        """
        if self.settings.secret_delivery == "external-secret":
            obj = external_secret(spec, self.settings.external_secret_store, self.remote_key_prefix)
            for key, prop in remote_refs(obj):
                # Secrets sharing an item (the ping key) give the same value for the same property.
                self.escrowed.setdefault(key, {}).setdefault(prop, values[prop])
            return self.declare(name, obj, parent)
        def value(v: str | SecretRef | SecretTemplate) -> pulumi.Input[str]:
            if isinstance(v, SecretTemplate):
                return pulumi.Output.secret(pulumi.Output.concat(v.before, values[v.ref.name], v.after))
            return pulumi.Output.secret(values[v.name]) if isinstance(v, SecretRef) else v

        data = {k: value(v) for k, v in spec.data.items()}
        return k8s.core.v1.Secret(
            name, metadata=self._owned({"name": spec.name, "namespace": spec.namespace, "labels": spec.labels}),
            string_data=data, opts=pulumi.ResourceOptions(parent=parent, provider=self.provider(spec.namespace)))
