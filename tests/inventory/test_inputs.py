"""Values tools would refuse later are refused at load time, with their path and the fix."""

from __future__ import annotations

import pytest

from inventory.inputs import split_ping_base
from tests.inventory.problems import problems

TIER1 = {"rpo_hours": 12, "offsite_rpo_hours": 24, "lock_days": 1, "verify_every_days": 7,
         "alerts": ["out-of-sync", "missed-run", "never-ran"],
         "local_retention": {"hourly": 48, "daily": 30, "monthly": 6},
         "offsite_retention": {"daily": 30, "monthly": 12}}


def test_tier1_lock_of_one_day_with_kopia(estate):
    estate["tiers"] = {"1": TIER1}
    estate["datasets"][0]["source"]["mover"] = "kopia"
    assert problems(estate) == [("tiers.1.lock_days", "rule",
                                 "a lock of 1 day is too short for kopia datasets ['vaultwarden']: their daily full "
                                 "maintenance must run a day before the lock lapses; give the tier a lock of at least "
                                 "2 days (and offsite retention above it), or use mover: restic")]


def test_tier1_lock_of_one_day_with_restic_is_fine(estate):
    from inventory import load_inventory

    estate["tiers"] = {"1": TIER1}
    assert load_inventory(estate).tier(1).lock_days == 1


def test_tier2_lock_capped_to_one_day_by_retention(estate):
    estate["tiers"] = {"2": {"rpo_hours": 24, "offsite_rpo_hours": 24, "lock_days": 14, "verify_every_days": 30,
                             "alerts": ["out-of-sync"], "local_retention": {"daily": 14},
                             "offsite_retention": {"daily": 2}}}
    estate["datasets"][1]["destinations"] = ["nas", "b2"]
    assert problems(estate) == [("tiers.2.offsite_retention", "rule",
                                 "a 2-day shortest offsite retention, which caps the lock at 1 day is too short for "
                                 "kopia datasets ['grafana']: their daily full maintenance must run a day before the "
                                 "lock lapses; give the tier a lock of at least 2 days (and offsite retention above "
                                 "it), or use mover: restic")]


@pytest.mark.parametrize("path", ["../grafana.db", "/var/lib/grafana/grafana.db", "data/../../etc/passwd"])
def test_sqlite_path_escaping_the_claim(estate, path):
    estate["datasets"][5]["source"]["sqlite_path"] = path
    assert problems(estate) == [("datasets[5].source.sqlite_path", "rule",
                                 f"{path!r} must be relative to the root of sqlite_claim and stay inside it; write the "
                                 "path inside the claim without a leading '/' or '..', e.g. `grafana.db` or "
                                 "`data/grafana.db`")]


def test_sqlite_path_with_a_quote(estate):
    estate["datasets"][5]["source"]["sqlite_path"] = "it's.db"
    assert problems(estate) == [("datasets[5].source.sqlite_path", "rule",
                                 "\"it's.db\" contains [\"'\"], which the dump script cannot pass safely; rename the "
                                 "file or its folder")]


def test_sqlite_path_naming_a_folder(estate):
    estate["datasets"][5]["source"]["sqlite_path"] = "data/"
    assert problems(estate) == [("datasets[5].source.sqlite_path", "rule",
                                 "'data/' is not a file path; name the database file, e.g. `data/grafana.db`")]


def test_ping_base_with_a_quote(estate):
    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc.example/ping/it's/"
    assert problems(estate) == [("monitoring.healthchecks.ping_base", "rule",
                                 "'https://hc.example/ping/<hidden>/' contains [\"'\"]; jobs pass it to curl in a "
                                 "shell, so use the plain ping endpoint from the project's settings page, e.g. "
                                 "`https://hc-ping.com/`")]


def test_ping_key_never_shown_in_a_ping_base_problem(estate):
    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc.lan/ping/s3cr3t-key-0123456789/?x=1/"
    ((_, _, message),) = problems(estate)
    assert "s3cr3t" not in message and "'https://hc.lan/ping/<hidden>/'" in message


def test_hosted_ping_base_with_a_slug_in_it(estate):
    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc-ping.com/key0123456789/backup/"
    assert problems(estate) == [("monitoring.healthchecks.ping_base", "rule",
                                 "'https://hc-ping.com/<hidden>/<hidden>/' is not a ping endpoint: hosted Healthchecks "
                                 "slug URLs are `https://hc-ping.com/<ping-key>/<slug>`; write `https://hc-ping.com/` "
                                 "and set the key with `pulumi config set --secret --path 'credentials.healthchecks."
                                 "ping_key' <ping-key>`")]


@pytest.mark.parametrize("endpoint", ["https://hc-ping.com/", "https://hc.lan/ping/"])
def test_ping_endpoint_without_key_loads(estate, endpoint):
    # The key then comes from credentials.healthchecks.ping_key (a Pulumi secret), checked before anything runs.
    from inventory import load_inventory

    estate["monitoring"]["healthchecks"]["ping_base"] = endpoint
    assert load_inventory(estate).monitoring.healthchecks.ping_base == endpoint
    assert split_ping_base(endpoint) == (endpoint, None)


def test_ping_base_splits_into_endpoint_and_key():
    assert split_ping_base("https://hc-ping.com/abc_DEF-123/") == ("https://hc-ping.com/", "abc_DEF-123")
    assert split_ping_base("https://hc.lan/ping/k3y/") == ("https://hc.lan/ping/", "k3y")


def test_ping_base_with_query(estate):
    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc.lan/ping/key/?create=1/"
    assert problems(estate) == [("monitoring.healthchecks.ping_base", "rule",
                                 "'https://hc.lan/ping/<hidden>/' has a query or fragment; slugs are appended to "
                                 "it, so use the ping endpoint alone, e.g. `https://hc-ping.com/`")]


def test_self_hosted_ping_base_with_key_loads(estate):
    from inventory import load_inventory

    estate["monitoring"]["healthchecks"]["ping_base"] = "https://hc.lan/ping/0123456789abcdefghijkl/"
    assert load_inventory(estate).monitoring.healthchecks.ping_base.endswith("/ping/0123456789abcdefghijkl/")


@pytest.mark.parametrize("name", ["storage0/../photos", "storage0/./photos", "storage0/photos/.."])
def test_zfs_dataset_with_dot_components(estate, name):
    estate["datasets"][3]["source"]["dataset"] = name
    assert problems(estate) == [("datasets[3].source.dataset", "rule",
                                 f"{name!r} has a '.' or '..' component, which ZFS refuses; write the dataset path, "
                                 "e.g. `tank/photos`")]


def test_zfs_pool_name_must_start_with_a_letter(estate):
    estate["datasets"][3]["source"]["dataset"] = "_pool/photos"
    assert problems(estate) == [("datasets[3].source.dataset", "rule",
                                 "pool '_pool' is not a valid ZFS pool name (it must start with a letter and not be a "
                                 "reserved word such as ['mirror', 'raidz', 'draid', 'spare', 'log'] or c<digit>); use "
                                 "the pool name `zpool list` shows")]


def test_zfs_component_with_trailing_space(estate):
    estate["datasets"][3]["source"]["dataset"] = "storage0/photos "
    assert problems(estate) == [("datasets[3].source.dataset", "rule",
                                 "'storage0/photos ' has an empty component or one starting or ending in a space; "
                                 "write the dataset path, e.g. `tank/photos`")]


def test_zfs_exclude_with_dotdot(estate):
    estate["datasets"][3]["source"] |= {"recursive": True, "exclude": ["storage0/photos/.."]}
    assert problems(estate) == [("datasets[3].source.exclude[0]", "rule",
                                 "'storage0/photos/..' has a '.' or '..' component, which ZFS refuses; write the "
                                 "dataset path, e.g. `tank/photos`")]
