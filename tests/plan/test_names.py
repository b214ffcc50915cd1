"""plan/names.py: the one home of labels, object names and keys; names stay DNS labels within their limit, stable,
and distinct for distinct long inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plan import names

PARTS = st.lists(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", fullmatch=True), min_size=1, max_size=4)


def test_labels_name_the_dataset_tier_manager_and_the_copy_only_when_given():
    assert names.labels("immich-db", 1) == {names.LABEL_DATASET: "immich-db", names.LABEL_TIER: "1",
                                            names.LABEL_MANAGED_BY: "homelab-backups"}
    assert names.labels("immich-db", 2, "b2")[names.LABEL_DESTINATION] == "b2"
    assert names.tier_labels(3) == {names.LABEL_TIER: "3", names.LABEL_MANAGED_BY: "homelab-backups"}


def test_keys_and_slugs():
    assert names.writer_key("immich-db", "pgbackrest") == "immich-db-pgbackrest"
    assert names.bucket_key("b2", 1) == "b2-tier1"
    assert names.backup_slug("vaultwarden", "nas") == "backup-vaultwarden-nas"


def test_a_short_name_is_the_parts_joined_and_empty_parts_are_dropped():
    assert names.object_name("vaultwarden", "", "nas", "check") == "vaultwarden-nas-check"


@given(PARTS, st.integers(20, 63))
def test_object_names_fit_their_limit_stay_dns_labels_and_are_stable(parts, limit):
    name = names.object_name(*parts, limit=limit)
    assert len(name) <= limit and name == names.object_name(*parts, limit=limit)
    assert name[0].isalnum() and name[-1].isalnum() and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_two_long_names_sharing_a_prefix_stay_distinct():
    a = names.object_name("a" * 60, "drill", limit=names.CRONJOB_NAME_LIMIT)
    b = names.object_name("a" * 60, "check", limit=names.CRONJOB_NAME_LIMIT)
    assert a != b and len(a) == len(b) == names.CRONJOB_NAME_LIMIT


@pytest.mark.parametrize("bad", ["Upper", "under_score", "-lead", "trail-", "dot.ted"])
def test_a_part_that_is_no_dns_label_is_refused(bad):
    with pytest.raises(ValueError, match="is not a DNS label"):
        names.object_name(bad)
