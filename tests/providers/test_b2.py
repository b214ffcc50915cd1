"""providers/b2.py against b2sdk's RawSimulator: Backblaze's own in-memory B2, reached through the `api_factory` seam.

Properties travel through the same serialisation the dynamic provider host applies (numbers become floats, None
members vanish, unknowns stay unknown), so the provider sees what it would see under `pulumi up` and `preview`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from b2sdk.v2 import (
    ALL_CAPABILITIES,
    SSE_B2_AES,
    B2Api,
    B2HttpApiConfig,
    BucketRetentionSetting,
    InMemoryAccountInfo,
    InMemoryCache,
    RawSimulator,
    RetentionMode,
    RetentionPeriod,
)
from b2sdk.v2 import Bucket as B2Bucket
from b2sdk.v2.exception import B2Error, RestrictedBucket, Unauthorized
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime import rpc

from providers import b2
from providers.b2 import (
    WRITER_CAPABILITIES,
    ApplicationKey,
    ApplicationKeyArgs,
    ApplicationKeyProvider,
    B2ProviderError,
    Bucket,
    BucketArgs,
    BucketProvider,
    lifecycle_from_rules,
    lifecycle_rules,
)
from tests.mocks import RecordingMonitor
from tests.providers import wire_forms

NAME = "homelab-b2-tier1"
LIFECYCLE = {"noncurrent_days": 15, "abort_multipart_days": 7}
LABELS = {"backup.homelab/tier": "1", "backup.homelab/destination": "b2"}
PREFIX = "restic/immich/"


def wire(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` as the dynamic provider host deserialises them for check, diff and create."""
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def failures(result: Any) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in result.failures]


class RetentionRefusingSimulator(RawSimulator):
    """A B2 that creates buckets but refuses to set a default retention, as for a key without writeBucketRetentions."""

    def update_bucket(self, *args: Any, default_retention: Any = None, **kwargs: Any) -> Any:
        if default_retention is not None:
            raise Unauthorized("", "unauthorized")
        return super().update_bucket(*args, default_retention=default_retention, **kwargs)


@dataclass(frozen=True)
class SimulatedB2:
    """One simulated B2: the simulator, master credentials as `auth`, and an independent client to verify with."""

    sim: RawSimulator
    auth: dict[str, str]
    admin: B2Api

    def client(self) -> B2Api:
        """A fresh, unauthorised client on this simulator: what `api_factory` hands the provider."""
        # b2sdk builds the raw API as `_raw_api_class(b2_http)`; a callable returning the shared simulator makes
        # every client see the same accounts, buckets and keys.
        return B2Api(InMemoryAccountInfo(), InMemoryCache(), api_config=B2HttpApiConfig(_raw_api_class=self.raw_api))

    def raw_api(self, _http: Any) -> RawSimulator:
        return self.sim

    def live_bucket(self, name: str) -> B2Bucket:
        """The bucket as B2 reports it now (the cache-free lookup, so settings are included)."""
        (bucket,) = self.admin.list_buckets(bucket_name=name)
        return bucket

    def key_auth(self, capabilities: list[str], bucket_id: str | None = None) -> dict[str, str]:
        key = self.admin.create_key(capabilities, "provisioning", bucket_id=bucket_id)
        return {"key_id": key.id_, "key": key.application_key}

    def bucket_props(self, **changes: Any) -> dict[str, Any]:
        props = {"bucket_name": NAME, "lifecycle": LIFECYCLE, "lock_days": 14, "bucket_info": LABELS, "auth": self.auth}
        return wire({**props, **changes})

    def key_props(self, bucket_id: str, **changes: Any) -> dict[str, Any]:
        props = {
            "key_name": "immich-restic",
            "bucket_id": bucket_id,
            "name_prefix": PREFIX,
            "capabilities": list(WRITER_CAPABILITIES),
            "auth": self.auth,
        }
        return wire({**props, **changes})


def simulated_b2(monkeypatch: pytest.MonkeyPatch, simulator: type[RawSimulator] = RawSimulator) -> SimulatedB2:
    """A new simulated account, built as b2sdk's own tests do, with the provider's seam pointed at it."""
    monkeypatch.delenv(b2.KEY_ID_ENV, raising=False)
    monkeypatch.delenv(b2.KEY_ENV, raising=False)
    admin = B2Api(InMemoryAccountInfo(), InMemoryCache(), api_config=B2HttpApiConfig(_raw_api_class=simulator))
    sim = admin.session.raw_api
    key_id, master = sim.create_account()
    admin.authorize_account("production", key_id, master)
    world = SimulatedB2(sim, {"key_id": key_id, "key": master}, admin)
    monkeypatch.setattr(b2, "api_factory", world.client)
    return world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> SimulatedB2:
    return simulated_b2(monkeypatch)


def create_bucket(world: SimulatedB2, **changes: Any) -> tuple[str, dict[str, Any]]:
    result = BucketProvider().create(world.bucket_props(**changes))
    return result.id, wire(result.outs or {})


def create_key(world: SimulatedB2, bucket_id: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    result = ApplicationKeyProvider().create(world.key_props(bucket_id, **changes))
    return result.id, wire(result.outs or {})


# Buckets: create


def test_create_makes_a_private_sse_b2_bucket_with_exactly_the_given_lifecycle(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world, lock_days=0, lifecycle={"noncurrent_days": 1, "abort_multipart_days": 7})

    live = world.live_bucket(NAME)
    assert live.id_ == bucket_id
    assert live.type_ == "allPrivate"
    assert live.default_server_side_encryption == SSE_B2_AES
    assert live.lifecycle_rules == [
        {"fileNamePrefix": "", "daysFromHidingToDeleting": 1, "daysFromStartingToCancelingUnfinishedLargeFiles": 7}
    ]
    assert live.is_file_lock_enabled is False
    assert live.bucket_info == LABELS
    assert outs == {
        "bucket_id": bucket_id,
        "bucket_name": NAME,
        "account_id": world.auth["key_id"],
        "bucket_type": "allPrivate",
        "bucket_info": LABELS,
        "lifecycle": {"noncurrent_days": 1, "abort_multipart_days": 7},
        "file_lock_enabled": False,
        "lock_days": 0,
        "encryption": {"mode": "SSE-B2", "algorithm": "AES256"},
        "auth": world.auth,
    }


def test_create_with_lock_days_enables_file_lock_with_governance_retention(world: SimulatedB2) -> None:
    _, outs = create_bucket(world, lock_days=14)

    live = world.live_bucket(NAME)
    assert live.is_file_lock_enabled is True
    assert live.default_retention == BucketRetentionSetting(RetentionMode.GOVERNANCE, RetentionPeriod(days=14))
    assert (outs["file_lock_enabled"], outs["lock_days"], outs["lock_mode"]) == (True, 14, "governance")


def test_create_without_lifecycle_writes_no_rules(world: SimulatedB2) -> None:
    _, outs = create_bucket(world, lifecycle=None)

    assert world.live_bucket(NAME).lifecycle_rules == []
    assert "lifecycle" not in outs


def test_create_deletes_the_bucket_again_when_the_lock_cannot_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    world = simulated_b2(monkeypatch, RetentionRefusingSimulator)

    with pytest.raises(B2ProviderError) as raised:
        BucketProvider().create(world.bucket_props(lock_days=14))
    message = str(raised.value)
    assert message.startswith(f"cannot set the 14-day lock on new bucket '{NAME}': B2 refused the key"), message
    assert message.endswith("The new bucket was deleted again, so nothing was left behind"), message
    assert world.admin.list_buckets(bucket_name=NAME) == []


def test_create_with_a_taken_name_says_names_are_global(world: SimulatedB2) -> None:
    other = world.client()
    other.authorize_account("production", *world.sim.create_account())
    other.create_bucket(NAME, "allPrivate")

    with pytest.raises(B2ProviderError) as raised:
        BucketProvider().create(world.bucket_props())
    assert str(raised.value) == (
        f"cannot create bucket '{NAME}': the name is taken. B2 bucket names are unique across all accounts; "
        "choose another bucket_name, or if the bucket is already yours, reference it with "
        "Bucket.get(resource_name, bucket name)"
    )


def test_bad_credentials_are_refused_without_echoing_the_secret(world: SimulatedB2) -> None:
    auth = {"key_id": world.auth["key_id"], "key": "not-the-master-key"}

    with pytest.raises(B2ProviderError) as raised:
        BucketProvider().create(world.bucket_props(auth=auth))
    message = str(raised.value)
    assert message.startswith(
        f"cannot create bucket '{NAME}': B2 rejected the credentials from the `auth` input (wrong key id or key"
    )
    assert "B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY" in message
    assert "not-the-master-key" not in message
    assert world.admin.list_buckets(bucket_name=NAME) == []


def test_bad_credentials_from_the_environment_name_the_variables(
    world: SimulatedB2, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(b2.KEY_ID_ENV, "no-such-key-id")
    monkeypatch.setenv(b2.KEY_ENV, "no-such-secret")

    with pytest.raises(B2ProviderError, match="rejected the credentials from B2_APPLICATION_KEY_ID/B2_APPLICATION_KEY"):
        BucketProvider().create(world.bucket_props(auth=None))


def test_a_key_without_bucket_capabilities_is_named_before_anything_is_created(world: SimulatedB2) -> None:
    auth = world.key_auth(["listBuckets", "readBucketEncryption", "readBucketRetentions"])

    with pytest.raises(B2ProviderError) as raised:
        BucketProvider().create(world.bucket_props(auth=auth))
    assert str(raised.value).startswith(
        f"cannot create bucket '{NAME}': the key from the `auth` input lacks deleteBuckets, writeBucketEncryption, "
        "writeBucketRetentions, writeBuckets; use a provisioning key with them"
    )


def test_a_bucket_restricted_key_refused_by_b2_gets_the_capability_and_fix(world: SimulatedB2) -> None:
    other_id, _ = create_bucket(world, bucket_name="some-other-bucket", lock_days=0)
    capabilities = ["listBuckets", "readBucketEncryption", "readBucketRetentions", "writeBuckets"]
    auth = world.key_auth([*capabilities, "writeBucketEncryption"], bucket_id=other_id)

    with pytest.raises(B2ProviderError) as raised:
        BucketProvider().create(world.bucket_props(auth=auth, lock_days=0))
    assert str(raised.value).startswith(
        f"cannot create bucket '{NAME}': B2 refused the key from the `auth` input (unauthorized). It needs the "
        "writeBuckets capability and no bucket restriction"
    )


# Buckets: check


def test_check_reports_one_failure_per_bad_property() -> None:
    news = wire(
        {
            "bucket_name": "b2-x",
            "lifecycle": {"noncurrent_days": 0, "abort_multipart_days": -1, "expire_days": 30},
            "lock_days": -1,
            "bucket_info": {"backup.homelab/tier": 1},
            "auth": {"key_id": "id"},
        }
    )

    assert failures(BucketProvider().check({}, news)) == [
        (
            "bucket_name",
            "must be 6-63 characters long, not 4; must not start with 'b2-' (reserved by Backblaze)",
        ),
        ("lifecycle", "unknown keys expire_days: allowed are noncurrent_days, abort_multipart_days"),
        (
            "lifecycle.noncurrent_days",
            "must be a positive whole number of days or None (keep hidden versions), not 0.0",
        ),
        ("lifecycle.abort_multipart_days", "must be a positive whole number of days (7 is usual), not -1.0"),
        ("lock_days", "must be a whole number of days, 0 for no lock, not -1.0"),
        ("bucket_info", "labels must be strings; fix backup.homelab/tier"),
        ("auth", "must be a mapping with exactly the keys `key_id` and `key`"),
    ]


def test_check_without_any_credentials_says_where_to_put_them(world: SimulatedB2) -> None:
    assert failures(BucketProvider().check({}, world.bucket_props(auth=None))) == [
        (
            "auth",
            "no B2 credentials: pass auth={'key_id': ..., 'key': ...} as a Pulumi secret, or set "
            "B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY for the pulumi process",
        )
    ]


def test_check_rejects_bad_characters_in_bucket_names(world: SimulatedB2) -> None:
    assert failures(BucketProvider().check({}, world.bucket_props(bucket_name="homelab_backups"))) == [
        ("bucket_name", "may contain only letters, digits and '-'")
    ]


def test_check_leaves_unknown_values_alone_during_preview(world: SimulatedB2) -> None:
    news = world.bucket_props(
        bucket_name=rpc.UNKNOWN,
        lifecycle={"noncurrent_days": rpc.UNKNOWN, "abort_multipart_days": rpc.UNKNOWN},
        lock_days=rpc.UNKNOWN,
        bucket_info=rpc.UNKNOWN,
        auth=rpc.UNKNOWN,
    )
    assert failures(BucketProvider().check({}, news)) == []


bucket_names = st.from_regex(r"[a-z0-9][a-z0-9-]{5,62}", fullmatch=True).filter(lambda n: not n.startswith("b2-"))
lifecycles = st.fixed_dictionaries(
    {"noncurrent_days": st.none() | st.integers(1, 3650), "abort_multipart_days": st.integers(1, 30)}
)


@settings(max_examples=60, deadline=None)
@given(bucket_names, st.none() | lifecycles, st.integers(0, 365))
def test_check_accepts_every_valid_bucket(name: str, lifecycle: dict[str, Any] | None, lock_days: int) -> None:
    news = wire(
        {"bucket_name": name, "lifecycle": lifecycle, "lock_days": lock_days, "auth": {"key_id": "a", "key": "b"}}
    )
    assert failures(BucketProvider().check({}, news)) == []


@given(lifecycles)
def test_lifecycle_rules_never_hide_current_versions_and_read_back_unchanged(lifecycle: dict[str, Any]) -> None:
    rules = lifecycle_rules(lifecycle)
    assert [rule["fileNamePrefix"] for rule in rules] == [""]
    assert all("daysFromUploadingToHiding" not in rule for rule in rules)
    assert lifecycle_from_rules(rules) == lifecycle


# Buckets: diff

DIFF_CASES = {
    "nothing changed": ({}, {}, (False, [], False)),
    "new name": ({}, {"bucket_name": "homelab-b2-tier1-v2"}, (True, ["bucket_name"], False)),
    "same name, other case": ({}, {"bucket_name": NAME.upper()}, (False, [], False)),
    "lock turned off": ({}, {"lock_days": 0}, (True, ["lock_days"], True)),
    "lock turned on": ({"lock_days": 0}, {"lock_days": 7}, (True, ["lock_days"], True)),
    "new name and lock off": (
        {},
        {"bucket_name": "homelab-b2-v2", "lock_days": 0},
        (True, ["bucket_name", "lock_days"], False),
    ),
    "longer lock": ({}, {"lock_days": 30}, (True, [], False)),
    "lifecycle days": ({}, {"lifecycle": {"noncurrent_days": 31, "abort_multipart_days": 7}}, (True, [], False)),
    "lifecycle dropped": ({}, {"lifecycle": None}, (True, [], False)),
    "noncurrent expiry dropped": ({}, {"lifecycle": {"abort_multipart_days": 7}}, (True, [], False)),
    "labels": ({}, {"bucket_info": {"backup.homelab/tier": "2"}}, (True, [], False)),
    "credentials rotated": ({}, {"auth": {"key_id": "other", "key": "other"}}, (True, [], False)),
    "unknown name": ({}, {"bucket_name": rpc.UNKNOWN}, (True, ["bucket_name"], False)),
    "unknown lock": ({}, {"lock_days": rpc.UNKNOWN}, (True, ["lock_days"], True)),
    "unknown lifecycle": ({}, {"lifecycle": rpc.UNKNOWN}, (True, [], False)),
}


@pytest.mark.parametrize(("created", "desired", "expected"), DIFF_CASES.values(), ids=DIFF_CASES.keys())
def test_bucket_diff_replaces_only_for_name_and_lock_toggle(
    world: SimulatedB2, created: dict[str, Any], desired: dict[str, Any], expected: tuple[bool, list[str], bool]
) -> None:
    bucket_id, outs = create_bucket(world, **created)

    result = BucketProvider().diff(bucket_id, outs, world.bucket_props(**{**created, **desired}))
    assert (result.changes, result.replaces, result.delete_before_replace) == expected


def test_a_bucket_created_without_lifecycle_diffs_clean_against_the_same_inputs(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world, lifecycle={"noncurrent_days": None, "abort_multipart_days": 7}, lock_days=0)

    desired = world.bucket_props(lifecycle={"noncurrent_days": None, "abort_multipart_days": 7}, lock_days=0)
    assert BucketProvider().diff(bucket_id, outs, desired).changes is False


# Buckets: update, read (refresh and import), delete


def test_update_rewrites_lifecycle_lock_and_labels_in_place(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)
    revision = world.live_bucket(NAME).revision
    desired = world.bucket_props(
        lifecycle={"noncurrent_days": 31, "abort_multipart_days": 3}, lock_days=30, bucket_info={"tier": "2"}
    )
    assert BucketProvider().diff(bucket_id, outs, desired).replaces == []

    result = BucketProvider().update(bucket_id, outs, desired)

    live = world.live_bucket(NAME)
    assert live.id_ == bucket_id
    assert live.revision == revision + 1
    assert live.lifecycle_rules == [
        {"fileNamePrefix": "", "daysFromHidingToDeleting": 31, "daysFromStartingToCancelingUnfinishedLargeFiles": 3}
    ]
    assert live.default_retention == BucketRetentionSetting(RetentionMode.GOVERNANCE, RetentionPeriod(days=30))
    assert live.bucket_info == {"tier": "2"}
    assert BucketProvider().diff(bucket_id, wire(result.outs or {}), desired).changes is False


def test_update_of_a_bucket_deleted_outside_pulumi_says_to_refresh(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)
    world.admin.delete_bucket(world.live_bucket(NAME))

    with pytest.raises(B2ProviderError, match="no longer exists in B2; run `pulumi refresh`"):
        BucketProvider().update(bucket_id, outs, world.bucket_props(lock_days=30))


def test_refresh_reports_lifecycle_drift_and_the_next_diff_updates_it_back(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)
    drifted = [
        {"fileNamePrefix": "", "daysFromHidingToDeleting": 3, "daysFromStartingToCancelingUnfinishedLargeFiles": 7}
    ]
    world.live_bucket(NAME).update(lifecycle_rules=drifted)

    read = BucketProvider().read(bucket_id, outs)
    assert read.id == bucket_id
    assert read.outs is not None and read.inputs is not None
    assert read.outs["lifecycle"] == {"noncurrent_days": 3, "abort_multipart_days": 7}
    assert read.inputs["lifecycle"] == {"noncurrent_days": 3, "abort_multipart_days": 7}

    desired = world.bucket_props()
    diff = BucketProvider().diff(bucket_id, wire(read.outs), desired)
    assert (diff.changes, diff.replaces) == (True, [])

    BucketProvider().update(bucket_id, wire(read.outs), desired)
    assert world.live_bucket(NAME).lifecycle_rules == lifecycle_rules(LIFECYCLE)


def test_refresh_surfaces_a_foreign_rule_that_would_expire_current_versions(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)
    hides_current = {"fileNamePrefix": "", "daysFromUploadingToHiding": 30}
    world.live_bucket(NAME).update(lifecycle_rules=[*lifecycle_rules(LIFECYCLE), hides_current])

    read = BucketProvider().read(bucket_id, outs)
    assert read.outs is not None
    assert read.outs["lifecycle"] == {**LIFECYCLE, "unmanaged_rules": [hides_current]}
    assert BucketProvider().diff(bucket_id, wire(read.outs), world.bucket_props()).changes is True


def test_refresh_reports_a_bucket_made_public_and_the_update_makes_it_private(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)
    world.live_bucket(NAME).update(bucket_type="allPublic")

    read = BucketProvider().read(bucket_id, outs)
    assert read.outs is not None
    assert read.outs["bucket_type"] == "allPublic"
    assert BucketProvider().diff(bucket_id, wire(read.outs), world.bucket_props()).changes is True
    BucketProvider().update(bucket_id, wire(read.outs), world.bucket_props())
    assert world.live_bucket(NAME).type_ == "allPrivate"


@pytest.mark.parametrize("by", ["name", "id"])
def test_read_imports_an_existing_bucket_by_name_or_id(world: SimulatedB2, by: str) -> None:
    bucket_id, outs = create_bucket(world)

    read = BucketProvider().read(NAME if by == "name" else bucket_id, wire({"auth": world.auth}))

    assert read.id == bucket_id
    assert read.outs == outs
    assert read.inputs == {
        "bucket_name": NAME,
        "lifecycle": LIFECYCLE,
        "lock_days": 14,
        "bucket_info": LABELS,
        "auth": world.auth,
    }


def test_read_of_a_missing_bucket_returns_an_empty_id(world: SimulatedB2) -> None:
    read = BucketProvider().read("no-such-bucket", wire({"auth": world.auth}))
    assert (read.id, read.outs) == ("", {})


def test_delete_removes_the_bucket_and_tolerates_it_being_gone(world: SimulatedB2) -> None:
    bucket_id, outs = create_bucket(world)

    BucketProvider().delete(bucket_id, outs)
    assert world.admin.list_buckets(bucket_name=NAME) == []
    BucketProvider().delete(bucket_id, outs)


# Application keys


def test_key_is_created_scoped_to_its_bucket_with_exactly_the_writer_capabilities(world: SimulatedB2) -> None:
    bucket_id, _ = create_bucket(world)
    create_bucket(world, bucket_name="another-bucket", lock_days=0)

    key_id, outs = create_key(world, bucket_id)

    live = world.admin.get_key(key_id)
    assert live is not None
    assert (live.bucket_id, live.name_prefix, live.key_name) == (bucket_id, PREFIX, "immich-restic")
    assert sorted(live.capabilities) == sorted(WRITER_CAPABILITIES)
    assert outs == {
        "application_key_id": key_id,
        "application_key": world.sim.key_id_to_key[key_id].key,
        "key_name": "immich-restic",
        "bucket_id": bucket_id,
        "name_prefix": PREFIX,
        "capabilities": sorted(WRITER_CAPABILITIES),
        "account_id": world.auth["key_id"],
        "auth": world.auth,
    }

    writer = world.client()
    writer.authorize_account("production", key_id, outs["application_key"])
    allowed = writer.account_info.get_allowed()
    assert (allowed["bucketId"], allowed["bucketName"], allowed["namePrefix"]) == (bucket_id, NAME, PREFIX)
    with pytest.raises(RestrictedBucket):
        writer.list_buckets(bucket_name="another-bucket")
    with pytest.raises(Unauthorized):
        writer.create_bucket("writer-made-bucket", "allPrivate")


def test_read_only_key_lists_and_downloads_its_prefix_but_cannot_upload_or_delete(world: SimulatedB2) -> None:
    bucket_id, _ = create_bucket(world)
    reader_id, reader_outs = create_key(world, bucket_id, key_name="immich-restic-ro",
                                        capabilities=list(b2.READER_CAPABILITIES))
    # RawSimulator refuses uploads of every bucket-restricted key (it checks the bucket without its id), so the
    # backup is written with the admin key.
    world.admin.get_bucket_by_name(NAME).upload_bytes(b"snapshot", PREFIX + "data/1")

    reader = world.client()
    reader.authorize_account("production", reader_id, reader_outs["application_key"])
    bucket = reader.get_bucket_by_name(NAME)
    assert [v.file_name for v, _ in bucket.ls(PREFIX, recursive=True)] == [PREFIX + "data/1"]
    assert sorted(reader.account_info.get_allowed()["capabilities"]) == sorted(b2.READER_CAPABILITIES)
    with pytest.raises(B2Error, match="unauthorized"):
        bucket.upload_bytes(b"evil", PREFIX + "data/2")
    ((version, _),) = bucket.ls(PREFIX, recursive=True)
    with pytest.raises(Unauthorized):
        reader.delete_file_version(version.id_, version.file_name)


def test_writer_capabilities_never_extend_retention_hold_files_or_bypass_governance() -> None:
    # Each would let a stolen writer key pin backups forever (billed) or delete locked ones.
    assert not {"writeFileRetentions", "writeFileLegalHolds", "bypassGovernance"} & set(WRITER_CAPABILITIES)
    assert {"writeFileLegalHolds", "bypassGovernance"} <= b2.MANAGEMENT_CAPABILITIES
    assert set(b2.READER_CAPABILITIES) <= set(WRITER_CAPABILITIES)
    assert not {"writeFiles", "deleteFiles"} & set(b2.READER_CAPABILITIES)


def test_key_check_refuses_management_capabilities_by_name(world: SimulatedB2) -> None:
    news = world.key_props("bucket_0", capabilities=[*WRITER_CAPABILITIES, "writeKeys", "readFilez"])

    assert failures(ApplicationKeyProvider().check({}, news)) == [
        (
            "capabilities[8]",
            "writeKeys lets the key manage keys or buckets or bypass a lock; backup credentials must not hold it. "
            "Remove it (WRITER_CAPABILITIES is the set a backup tool needs)",
        ),
        ("capabilities[9]", "'readFilez' is not a B2 capability; known ones: " + ", ".join(ALL_CAPABILITIES)),
    ]


@pytest.mark.parametrize("capability", sorted(b2.MANAGEMENT_CAPABILITIES))
def test_every_management_capability_is_refused(world: SimulatedB2, capability: str) -> None:
    news = world.key_props("bucket_0", capabilities=["listFiles", capability])
    assert [prop for prop, _ in failures(ApplicationKeyProvider().check({}, news))] == ["capabilities[1]"]


def test_key_check_requires_a_bucket_and_a_valid_name(world: SimulatedB2) -> None:
    news = world.key_props("", key_name="immich restic")

    assert failures(ApplicationKeyProvider().check({}, news)) == [
        ("key_name", "must be 1-100 letters, digits or '-', not 'immich restic'"),
        ("bucket_id", "is required: backup keys are scoped to one bucket; pass the bucket's id"),
    ]


def test_key_check_leaves_unknown_values_alone_during_preview(world: SimulatedB2) -> None:
    news = world.key_props(rpc.UNKNOWN, capabilities=["listFiles", rpc.UNKNOWN])
    assert failures(ApplicationKeyProvider().check({}, news)) == []


KEY_DIFF_CASES = {
    "nothing changed": ({}, (False, [])),
    "capabilities reordered": ({"capabilities": sorted(WRITER_CAPABILITIES, reverse=True)}, (False, [])),
    "new name": ({"key_name": "immich-kopia"}, (True, ["key_name"])),
    "other bucket": ({"bucket_id": "bucket_9"}, (True, ["bucket_id"])),
    "unknown bucket": ({"bucket_id": rpc.UNKNOWN}, (True, ["bucket_id"])),
    "prefix dropped": ({"name_prefix": None}, (True, ["name_prefix"])),
    "fewer capabilities": ({"capabilities": list(WRITER_CAPABILITIES[:6])}, (True, ["capabilities"])),
    "credentials rotated": ({"auth": {"key_id": "other", "key": "other"}}, (True, [])),
}


@pytest.mark.parametrize(("desired", "expected"), KEY_DIFF_CASES.values(), ids=KEY_DIFF_CASES.keys())
def test_key_diff_replaces_for_any_key_property(
    world: SimulatedB2, desired: dict[str, Any], expected: tuple[bool, list[str]]
) -> None:
    bucket_id, _ = create_bucket(world)
    key_id, outs = create_key(world, bucket_id)

    result = ApplicationKeyProvider().diff(key_id, outs, world.key_props(**{"bucket_id": bucket_id, **desired}))
    assert (result.changes, result.replaces) == expected


def test_key_update_only_swaps_the_provisioning_credentials(world: SimulatedB2) -> None:
    bucket_id, _ = create_bucket(world)
    key_id, outs = create_key(world, bucket_id)
    rotated = world.key_auth(["writeKeys", "deleteKeys", "listKeys"])

    result = ApplicationKeyProvider().update(key_id, outs, world.key_props(bucket_id, auth=rotated))

    assert result.outs == {**outs, "auth": rotated}
    assert world.admin.get_key(key_id) is not None


def test_key_read_imports_by_id_without_the_secret_and_delete_tolerates_gone(world: SimulatedB2) -> None:
    bucket_id, _ = create_bucket(world)
    key_id, outs = create_key(world, bucket_id)

    read = ApplicationKeyProvider().read(key_id, wire({"auth": world.auth}))
    assert read.id == key_id
    assert read.outs == {k: v for k, v in outs.items() if k != "application_key"}
    assert read.inputs == {
        "key_name": "immich-restic",
        "bucket_id": bucket_id,
        "name_prefix": PREFIX,
        "capabilities": sorted(WRITER_CAPABILITIES),
        "auth": world.auth,
    }

    ApplicationKeyProvider().delete(key_id, outs)
    assert world.admin.get_key(key_id) is None
    ApplicationKeyProvider().delete(key_id, outs)
    assert ApplicationKeyProvider().read(key_id, outs).id == ""


def test_key_creation_refused_for_a_missing_capability_names_it(world: SimulatedB2) -> None:
    bucket_id, _ = create_bucket(world)
    auth = world.key_auth(["listKeys", "deleteKeys"])

    with pytest.raises(B2ProviderError) as raised:
        ApplicationKeyProvider().create(world.key_props(bucket_id, auth=auth))
    assert str(raised.value).startswith(
        f"cannot create application key 'immich-restic' for bucket {bucket_id}: the key from the `auth` input lacks "
        "writeKeys"
    )


# Resources under Pulumi's mocks


def test_resources_register_b2_types_and_keep_credentials_secret(mocked: RecordingMonitor) -> None:
    auth = {"key_id": "provisioning-id", "key": "provisioning-secret"}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        bucket = Bucket("tier1", BucketArgs(bucket_name=NAME, lifecycle=LIFECYCLE, lock_days=14, auth=auth))
        key = ApplicationKey(
            "immich-writer",
            ApplicationKeyArgs(key_name="immich-restic", bucket_id=bucket.id, name_prefix=PREFIX, auth=auth),
        )
        return pulumi.Output.all(bucket.urn, key.urn)

    program()

    bucket, key = mocked.registered()["tier1"], mocked.registered()["immich-writer"]
    assert bucket.type == "pulumi-python:dynamic/b2:Bucket", bucket.name
    assert key.type == "pulumi-python:dynamic/b2:ApplicationKey", key.name
    assert list(key.additionalSecretOutputs) == ["application_key", "auth"], key.name
    assert list(bucket.additionalSecretOutputs) == ["auth"], bucket.name
    for request in (bucket, key):
        assert rpc.is_rpc_secret(rpc.deserialize_properties(request.object)["auth"]), request.name
    inputs = rpc.deserialize_properties(key.object)
    assert inputs["capabilities"] == list(WRITER_CAPABILITIES), key.name


# --- requests captured from a real preview (tests/providers/wire_forms) -------------------------------------------

B2_PROVIDERS = {"b2:Bucket": BucketProvider, "b2:ApplicationKey": ApplicationKeyProvider}
CAPTURED_CHECKS = [(t, r) for t in B2_PROVIDERS for r in wire_forms.of_type(t, "Check")]


def test_a_real_empty_stack_preview_sent_unknown_bucket_ids_to_the_keys() -> None:
    keys = [r for r in wire_forms.of_type("b2:ApplicationKey", "Check") if r["step"] == "preview-empty-b2"]
    assert keys and all(wire_forms.form(r["news"])["bucket_id"] == "unknown" for r in keys)
    assert wire_forms.of_type("b2:Bucket", "Check")


@pytest.mark.parametrize(("kind", "record"), CAPTURED_CHECKS, ids=[wire_forms.record_id(r) for _, r in CAPTURED_CHECKS])
def test_check_accepts_what_a_real_preview_sends(kind: str, record: dict[str, Any]) -> None:
    result = wire_forms.check(B2_PROVIDERS[kind](), record)
    assert [(f.property, f.reason) for f in result.failures] == []


def test_key_diff_on_the_captured_unknown_bucket_id_replaces_the_key() -> None:
    """B2 keys cannot be edited: an unknown bucket id is a possible new bucket, so the key is replaced."""
    (record, *_) = [r for r in wire_forms.of_type("b2:ApplicationKey", "Check") if r["step"] == "preview-empty-b2"]
    news = wire_forms.news(record)
    olds = {**news, "bucket_id": "4a48fe8875c6214145260818"}
    result = ApplicationKeyProvider().diff("K001", olds, news)
    assert (result.changes, result.replaces) == (True, ["bucket_id"])
