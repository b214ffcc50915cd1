"""Names and labels: deterministic, valid, and present on every object the builders render."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manifests import meta
from tests.manifests import estate

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
dns_parts = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?\Z")


@given(parts=st.lists(dns_parts, min_size=1, max_size=4), limit=st.sampled_from([meta.NAME_LIMIT, 52]))
def test_names_are_valid_bounded_and_deterministic(parts: list[str], limit: int) -> None:
    name = meta.object_name(*parts, limit=limit)
    assert DNS_LABEL.match(name) and len(name) <= limit
    assert name == meta.object_name(*parts, limit=limit)
    if len("-".join(parts)) <= limit:
        assert name == "-".join(parts)


def test_long_names_sharing_a_prefix_stay_distinct() -> None:
    stem = "a" * 60
    assert meta.object_name(stem, "b2") != meta.object_name(stem, "r2")


def test_names_refuse_invalid_characters() -> None:
    with pytest.raises(ValueError, match="not a DNS label"):
        meta.object_name("Vault_warden")


def test_labels_name_dataset_tier_destination_and_manager() -> None:
    assert meta.labels("vaultwarden", 1, "b2") == {
        "backup.homelab/dataset": "vaultwarden",
        "backup.homelab/tier": "1",
        "backup.homelab/destination": "b2",
        "app.kubernetes.io/managed-by": "homelab-backups",
    }
    assert meta.LABEL_DESTINATION not in meta.labels("immich-db", 1)


def _described(obj: dict) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def test_every_object_carries_the_ownership_labels() -> None:
    for obj in estate.rendered().objects():
        found = obj["metadata"]["labels"]
        assert found.get(meta.LABEL_MANAGED_BY) == meta.MANAGER, _described(obj)
        assert found.get(meta.LABEL_TIER) in {"1", "2", "3"}, _described(obj)
        if obj["kind"] != "PrometheusRule":  # one rule object serves a whole tier; each alert names its dataset
            assert found.get(meta.LABEL_DATASET), _described(obj)


def test_per_copy_objects_name_their_destination() -> None:
    per_copy = {"ReplicationSource", "ReplicationDestination", "KopiaMaintenance", "ScheduledBackup",
                "PersistentVolumeClaim", "CronJob", "ExternalSecret"}
    exports = {ds.name for ds in estate.inventory().datasets if ds.source.kind == "export"}
    for obj in estate.rendered().objects():
        found = obj["metadata"]["labels"]
        # An export's drill serves the whole dataset; the pack would read a destination naming its NAS dataset
        # as a second export job.
        if found.get(meta.LABEL_VERIFICATION) == "drill" and found[meta.LABEL_DATASET] in exports:
            assert meta.LABEL_DESTINATION not in found, _described(obj)
        elif obj["kind"] in per_copy:
            assert found.get(meta.LABEL_DESTINATION), _described(obj)


def test_labels_match_the_plan() -> None:
    tiers = {ds.name: str(ds.tier) for ds in estate.inventory().datasets}
    for obj in estate.rendered().objects():
        found = obj["metadata"]["labels"]
        if meta.LABEL_DATASET in found:
            assert found[meta.LABEL_TIER] == tiers[found[meta.LABEL_DATASET]], _described(obj)


def test_names_are_unique_per_kind_and_namespace() -> None:
    seen = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in estate.rendered().objects()]
    assert len(seen) == len(set(seen))


def test_objects_do_not_share_mutable_metadata() -> None:
    objects = estate.rendered().objects()
    label_dicts = [id(o["metadata"]["labels"]) for o in objects]
    assert len(label_dicts) == len(set(label_dicts))


def _schedules(obj: dict) -> list[str]:
    spec = obj["spec"]
    if obj["kind"] in {"ReplicationSource", "ReplicationDestination", "KopiaMaintenance"}:
        return [spec["trigger"]["schedule"]] if "schedule" in spec.get("trigger", {}) else []
    if obj["kind"] in {"CronJob", "ScheduledBackup"}:
        return [spec["schedule"]]
    return []


def test_cron_dialects_volsync_and_cronjobs_five_fields_cnpg_six() -> None:
    counted = {5: 0, 6: 0}
    for obj in estate.rendered().objects():
        for schedule in _schedules(obj):
            fields = schedule.split()
            expected = 6 if obj["kind"] == "ScheduledBackup" else 5
            assert len(fields) == expected, f"{_described(obj)}: {schedule!r}"
            assert all(re.fullmatch(r"\*|\d+(,\d+)*", f) for f in fields), f"{_described(obj)}: {schedule!r}"
            counted[expected] += 1
    assert counted[5] and counted[6]
