"""Secrets: builders hand out references, never values, in both delivery modes."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import pytest

from manifests.secrets import REPOSITORY_PASSWORD, SecretRef, SecretSpec, external_secret, secret_manifest
from tests.manifests import crd_schema, estate

SENSITIVE = {
    "RESTIC_PASSWORD", "KOPIA_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "CIPHER_PASS", "ENCRYPTION_PASSWORD", "ENCRYPTION_SALT",
}
SENTINEL = "s3cr3t-value-that-must-never-be-rendered"


def _spec() -> SecretSpec:
    return SecretSpec(
        name="vaultwarden-b2-repo",
        namespace="vaultwarden",
        labels={"app.kubernetes.io/managed-by": "homelab-backups", "backup.homelab/dataset": "vaultwarden"},
        data={"RESTIC_REPOSITORY": "s3:https://s3.example.com/b/p", "RESTIC_PASSWORD": REPOSITORY_PASSWORD},
    )


def test_sensitive_keys_are_always_references() -> None:
    specs = estate.rendered().secrets
    assert specs
    for spec in specs:
        for key, value in spec.data.items():
            if key in SENSITIVE:
                assert isinstance(value, SecretRef), f"{spec.name}.{key} carries a value"
            else:
                assert isinstance(value, str), f"{spec.name}.{key}"


def test_rendered_output_contains_no_secret_material() -> None:
    rendered = estate.rendered()
    text = json.dumps(rendered.objects() + rendered.plugin_snippets)
    assert "stringData" not in text
    assert '"kind": "Secret"' not in text
    for spec in rendered.secrets:
        for key in spec.refs():
            assert f'"{key}": "' not in text, f"{spec.name}.{key} rendered with a value"


def test_secret_manifest_resolves_only_references() -> None:
    seen: list[SecretRef] = []

    def resolve(ref: SecretRef) -> str:
        seen.append(ref)
        return SENTINEL

    manifest = secret_manifest(_spec(), resolve)
    assert seen == [REPOSITORY_PASSWORD]
    assert manifest["stringData"] == {"RESTIC_REPOSITORY": "s3:https://s3.example.com/b/p", "RESTIC_PASSWORD": SENTINEL}
    assert crd_schema.validate(manifest) == []


def test_every_estate_secret_is_a_valid_core_secret() -> None:
    for spec in estate.rendered().secrets:
        assert crd_schema.validate(secret_manifest(spec, lambda ref: SENTINEL)) == [], spec.name


def test_external_secret_reads_references_and_templates_plain_values() -> None:
    rendered = external_secret(_spec(), "onepassword", "hlb-")
    assert crd_schema.validate(rendered) == []
    spec = rendered["spec"]
    assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "onepassword"}
    assert spec["data"] == [
        {
            "secretKey": "RESTIC_PASSWORD",
            "remoteRef": {"key": "hlb-vaultwarden-b2-repo", "property": "repository_password"},
        }
    ]
    assert spec["target"]["name"] == "vaultwarden-b2-repo"
    assert spec["target"]["template"]["mergePolicy"] == "Merge"
    assert spec["target"]["template"]["data"] == {"RESTIC_REPOSITORY": "s3:https://s3.example.com/b/p"}
    assert spec["target"]["template"]["metadata"]["labels"] == dict(_spec().labels)


def test_every_estate_external_secret_validates_and_covers_all_keys() -> None:
    rendered = estate.rendered()
    for spec, external in zip(rendered.secrets, rendered.external_secrets, strict=True):
        assert crd_schema.validate(external) == [], spec.name
        fetched = {item["secretKey"] for item in external["spec"]["data"]}
        templated = set(external["spec"]["target"]["template"].get("data", {}))
        assert fetched == set(spec.refs()) and templated == set(spec.plain())


def test_template_syntax_in_plain_values_is_refused() -> None:
    spec = SecretSpec("x", "ns", {}, {"A": "{{ .password }}"})
    with pytest.raises(ValueError, match="template engine"):
        external_secret(spec, "store", "")


def test_specs_are_immutable_and_checked() -> None:
    spec = _spec()
    with pytest.raises(FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.data["RESTIC_PASSWORD"] = "plain"  # type: ignore[index]
    with pytest.raises(ValueError, match="not a valid Secret key"):
        SecretSpec("x", "ns", {}, {"BAD KEY": "v"})
    with pytest.raises(TypeError, match="expected str, SecretRef or SecretTemplate"):
        SecretSpec("x", "ns", {}, {"K": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="snake_case"):
        SecretRef("Repository-Password")
