"""components/hosts.py on the hosts example stack under mocks (up and preview): one HostBackup per host dataset under
its ProtectedDataset, a protected repository password per copy, the files as a plain output with no value in them,
the filled secret files as a secret output built from the writer keys the buckets made, and escrow."""

from __future__ import annotations

import pytest
from pulumi.runtime.sync_await import _sync_await

from tests.components.harness import of_type, run_estate, stack_plan

HOSTS_ENV = {"HLB_B2_KEY_ID": "hosts-b2-id", "HLB_B2_KEY": "SECRET-b2-admin", "HLB_SITE2_ACCESS_KEY_ID": "site2-id",
             "HLB_SITE2_SECRET_ACCESS_KEY": "SECRET-site2-admin", "HLB_HEALTHCHECKS_PING_KEY": "SECRET-hc-key"}
"""The admin credentials Pulumi.hosts.yaml needs, as a pipeline would export them."""


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def hosts_stack(request):
    registered, exported = run_estate("hosts", preview=request.param, env=HOSTS_ENV)
    return request.param, registered, exported


def resolved(output):
    return _sync_await(output.future())


def test_one_host_backup_per_host_dataset_under_its_dataset(hosts_stack) -> None:
    _, registered, _ = hosts_stack
    datasets = {r.urn: r.name for r in of_type(registered, "inventory:ProtectedDataset")}
    components = of_type(registered, "hosts:HostBackup")
    assert sorted(c.name for c in components) == ["atlas", "pebble"]
    for component in components:
        assert datasets[component.parent] == component.name, component.urn
        passwords = [r for r in registered if r.parent == component.urn and r.typ.endswith("GeneratedSecret")]
        unit = stack_plan("hosts").unit(component.name)
        assert sorted(p.name for p in passwords) == sorted(f"{unit.dataset}-{c.destination}-password"
                                                           for c in unit.copies)
        assert all(p.protect for p in passwords), "a lost password loses every snapshot"


def test_files_are_plain_and_hold_no_value(hosts_stack) -> None:
    preview, _, exported = hosts_stack
    if preview:
        pytest.skip("generated values are unknown in preview; the files are the same")
    for name, host in exported["estate"].hosts.items():
        assert not _sync_await(host.files.is_secret()), name
        files = resolved(host.files)
        secrets = resolved(host.secret_files)
        values = [v.strip().split("=", 1)[-1] for text in secrets.values() for v in text.splitlines()]
        assert values and all(v and v not in "".join(files.values()) for v in values), name


def test_secret_files_carry_the_writer_keys_and_passwords(hosts_stack) -> None:
    preview, _, exported = hosts_stack
    if preview:
        pytest.skip("generated values are unknown in preview")
    estate = exported["estate"]
    atlas = estate.hosts["atlas"]
    assert _sync_await(atlas.secret_files.is_secret())
    files = resolved(atlas.secret_files)
    creds = exported["credentials"]["atlas"]
    passwords = exported["secrets"]["atlas"]
    assert files["/run/agenix/restic-atlas-b2.password"] == passwords["b2"] + "\n"
    assert files["/run/agenix/restic-atlas-b2.env"].splitlines() == [
        f"AWS_ACCESS_KEY_ID={creds['b2']['access_key_id']}",
        f"AWS_SECRET_ACCESS_KEY={creds['b2']['secret_access_key']}",
        "HLB_PING_URL=https://hc-ping.com/SECRET-hc-key/backup-atlas-b2"]
    assert files["/run/agenix/restic-atlas-nas.env"] == "HLB_PING_URL=https://hc-ping.com/SECRET-hc-key/backup-atlas-nas\n"
    assert set(passwords) == {"nas", "site2", "b2"}


def test_each_s3_copy_writes_with_a_key_of_its_own(hosts_stack) -> None:
    _, registered, _ = hosts_stack
    writers = {r.name for r in registered if r.typ.endswith(("b2:ApplicationKey", "minio:User"))}
    assert {"hlb-b2-tier1-atlas-restic-key", "hlb-site2-tier1-atlas-restic-writer",
            "hlb-b2-tier2-pebble-restic-key"} <= writers
