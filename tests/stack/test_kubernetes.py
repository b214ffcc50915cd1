"""Where Kubernetes objects go: rendered for Flux (one provider per namespace), or applied and owned whole."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from inventory.models import Kubernetes
from manifests.secrets import SecretRef, SecretSpec
from stack.kubernetes import REMOTE_KEY_PREFIX, KubernetesTarget
from tests.mocks import RecordingMonitor, installed

CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "check", "namespace": "media"},
           "spec": {"schedule": "0 3 * * *"}}
SOURCE = {"apiVersion": "volsync.backube/v1alpha1", "kind": "ReplicationSource",
          "metadata": {"name": "library", "namespace": "media", "labels": {"app": "x"}}, "spec": {"trigger": {}}}
SPEC = SecretSpec("library-restic", "media", {"app": "x"}, {"RESTIC_PASSWORD": SecretRef("repository_password"),
                                                            "RESTIC_REPOSITORY": "s3:https://s3/bucket"})


def _declare(settings: Kubernetes, build: Any, preview: bool = False) -> RecordingMonitor:
    with installed(preview) as monitor:
        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            parent = pulumi.ComponentResource("test:index:Parent", "parent")
            resources = build(KubernetesTarget(settings, parent=parent), parent)
            return pulumi.Output.all(*[r.urn for r in resources])

        program()
    return monitor


def _inputs(request: Any) -> dict[str, Any]:
    return rpc.deserialize_properties(request.object, keep_unknowns=True)


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_render_mode_writes_each_namespace_through_its_own_provider(preview: bool) -> None:
    monitor = _declare(Kubernetes(mode="render", render_dir="out"),
                       lambda target, parent: [target.declare("check", CRONJOB, parent),
                                               target.declare("library", SOURCE, parent)], preview)
    registered = monitor.registered()
    provider = registered["render-media"]
    assert provider.type == "pulumi:providers:kubernetes"
    assert _inputs(provider)["renderYamlToDirectory"] == "out/media"
    assert registered["check"].type == "kubernetes:batch/v1:CronJob"
    assert registered["library"].type == "kubernetes:volsync.backube/v1alpha1:ReplicationSource"
    assert "::render-media::" in registered["check"].provider, registered["check"].provider
    assert "pulumi.com/patchForce" not in str(_inputs(registered["library"]).get("metadata"))


def test_apply_mode_owns_every_object_whole() -> None:
    monitor = _declare(Kubernetes(mode="apply"), lambda target, parent: [target.declare("library", SOURCE, parent)])
    registered = monitor.registered()
    assert _inputs(registered["cluster-media"])["enableServerSideApply"] == "true"
    assert _inputs(registered["library"])["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}


def test_an_object_with_more_than_a_spec_cannot_be_declared_generically() -> None:
    with pytest.raises(ValueError, match=r"only objects with a spec can be declared generically, not \['data'\]"):
        KubernetesTarget(Kubernetes()).declare("cm", {**CRONJOB, "data": {}}, pulumi.ComponentResource.__new__(
            pulumi.ComponentResource))


def test_render_mode_delivers_secrets_as_external_secrets_naming_the_store_item() -> None:
    monitor = _declare(Kubernetes(mode="render", secret_delivery="external-secret", external_secret_store="vault"),
                       lambda target, parent: [target.declare_secret("restic", SPEC, {"repository_password": "pw"},
                                                                     parent)])
    request = monitor.registered()["restic"]
    assert request.type == "kubernetes:external-secrets.io/v1:ExternalSecret"
    text = str(_inputs(request))
    assert "'vault'" in text and f"{REMOTE_KEY_PREFIX}library-restic" in text
    assert "pw" not in text.replace("password", "")


def test_secret_delivery_writes_a_secret_whose_values_are_secret() -> None:
    monitor = _declare(Kubernetes(mode="apply", secret_delivery="secret"),
                       lambda target, parent: [target.declare_secret("restic", SPEC, {"repository_password": "pw"},
                                                                     parent)])
    request = monitor.registered()["restic"]
    assert request.type == "kubernetes:core/v1:Secret"
    data = _inputs(request)["stringData"]
    assert rpc.is_rpc_secret(data), f"{request.name}: stringData reaches the engine in plaintext"
    assert rpc.unwrap_rpc_secret(data) == {"RESTIC_PASSWORD": "pw", "RESTIC_REPOSITORY": "s3:https://s3/bucket"}


ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "drill", "namespace": "media"}}
ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "drill", "namespace": "media"},
        "rules": [{"apiGroups": ["kopiur.home-operations.com"], "resources": ["restores"], "verbs": ["create"]}]}
BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": "drill", "namespace": "media"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "drill"},
           "subjects": [{"kind": "ServiceAccount", "name": "drill", "namespace": "media"}]}


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_a_drill_account_and_its_role_are_declared_with_their_top_level_fields(preview: bool) -> None:
    monitor = _declare(Kubernetes(mode="render", render_dir="out"),
                       lambda target, parent: [target.declare("account", ACCOUNT, parent),
                                               target.declare("role", ROLE, parent),
                                               target.declare("binding", BINDING, parent)], preview)
    registered = monitor.registered()
    assert registered["account"].type == "kubernetes:core/v1:ServiceAccount"
    assert _inputs(registered["role"])["rules"] == ROLE["rules"]
    binding = _inputs(registered["binding"])
    assert binding["roleRef"] == BINDING["roleRef"] and binding["subjects"] == BINDING["subjects"]
    assert "::render-media::" in registered["binding"].provider
