"""The schema helper itself: it finds the shared CRDs, converts them faithfully, and can fail."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from tests.manifests import crd_schema, estate


def test_shared_crds_are_found_next_to_the_repository() -> None:
    expected = os.environ.get("HLB_SHARED_DIR") or crd_schema.REPO.parent / "shared"
    assert Path(expected) == crd_schema.SHARED
    for files in crd_schema.CRD_FILES.values():
        for relative in files:
            assert crd_schema.load_crd(relative)["kind"] == "CustomResourceDefinition"


def test_missing_reference_data_fails_loudly() -> None:
    with pytest.raises(crd_schema.CrdDataMissing, match=r"<repo>/\.\./shared/crds"):
        crd_schema.load_crd("volsync/no-such-file.yaml")


def test_int_or_string_accepts_both_and_keeps_the_pattern() -> None:
    schema = crd_schema.to_json_schema(
        {
            "x-kubernetes-int-or-string": True, "pattern": "^[0-9]+Gi$",
            "anyOf": [{"type": "integer"}, {"type": "string"}],
        }
    )
    assert crd_schema.errors(schema, 5) == []
    assert crd_schema.errors(schema, "5Gi") == []
    assert crd_schema.errors(schema, "5 Gi") != []
    assert crd_schema.errors(schema, 1.5) != []


def test_properties_close_the_object_unless_unknown_fields_are_preserved() -> None:
    closed = crd_schema.to_json_schema({"type": "object", "properties": {"a": {"type": "string"}}})
    open_ = crd_schema.to_json_schema(
        {"type": "object", "properties": {"a": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": True}
    )
    assert crd_schema.errors(closed, {"a": "x", "b": 1}) == [
        "<root>: Additional properties are not allowed ('b' was unexpected)"
    ]
    assert crd_schema.errors(open_, {"a": "x", "b": 1}) == []


def test_maps_keep_their_value_schema() -> None:
    schema = crd_schema.to_json_schema({"type": "object", "additionalProperties": {"type": "string"}})
    assert crd_schema.errors(schema, {"any": "thing"}) == []
    assert crd_schema.errors(schema, {"any": 1}) != []


def test_combinator_branches_are_not_closed() -> None:
    node = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "oneOf": [{"properties": {"a": {}}, "required": ["a"]}, {"properties": {"b": {}}, "required": ["b"]}],
    }
    schema = crd_schema.to_json_schema(node)
    assert crd_schema.errors(schema, {"a": "x"}) == []
    assert crd_schema.errors(schema, {"a": "x", "b": "y"}) != []


def test_int32_format_is_enforced() -> None:
    schema = crd_schema.to_json_schema({"type": "integer", "format": "int32"})
    assert crd_schema.errors(schema, 7) == []
    assert crd_schema.errors(schema, 2**31) != []


def test_an_unknown_field_fails_validation() -> None:
    source = next(o for o in estate.rendered().volsync if o["kind"] == "ReplicationSource")
    assert crd_schema.validate(source) == []
    broken = copy.deepcopy(source)
    broken["spec"]["restic"]["retian"] = {"daily": 7}
    problems = crd_schema.validate(broken)
    assert problems and all("'retian' was unexpected" in p for p in problems)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("spec", "trigger", "schedule"), "every day", "does not match"),
        (("spec", "restic", "copyMethod"), "Snap", "is not one of"),
        (("metadata", "labels", "backup.homelab/tier"), 1, "is not of type 'string'"),
        (("metadata", "name"), "Vaultwarden_NAS", "does not match"),
        (("spec", "restic", "pruneIntervalDays"), "7", "is not of type 'integer'"),
        (("metadata", "generateName"), "x-", "was unexpected"),
    ],
)
def test_wrong_values_fail_validation(path: tuple[str, ...], value: object, expected: str) -> None:
    broken = copy.deepcopy(next(o for o in estate.rendered().volsync if o["kind"] == "ReplicationSource"))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = crd_schema.validate(broken)
    assert problems and any(expected in p for p in problems), problems


def test_core_kinds_are_checked_structurally() -> None:
    cron = copy.deepcopy(estate.rendered().exports[0])
    assert crd_schema.validate(cron) == []
    del cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert any("'resources' is a required property" in p for p in crd_schema.validate(cron))


def test_unregistered_kinds_and_versions_are_refused() -> None:
    with pytest.raises(KeyError, match="no schema registered"):
        crd_schema.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {}}})
    wrong_version = copy.deepcopy(estate.rendered().volsync[0])
    wrong_version["apiVersion"] = "volsync.backube/v1"
    with pytest.raises(KeyError, match="no schema registered"):
        crd_schema.validate(wrong_version)
