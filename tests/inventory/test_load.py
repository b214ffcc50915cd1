"""Bad inventories end in one error that names every problem's path and its fix; good ones load."""

from __future__ import annotations

import pytest

from inventory import InventoryError, load_inventory
from inventory.load import render_path
from tests.inventory.problems import problems


def test_base_estate_loads(estate):
    inv = load_inventory(estate)
    assert [d.name for d in inv.datasets] == ["vaultwarden", "grafana", "immich-db", "photos", "media", "grafana-db"]


def test_render_path_drops_union_tags():
    assert render_path(("datasets", 3, "source", "pvc", "claim")) == "datasets[3].source.claim"
    assert render_path(("destinations", 0, "b2", "region")) == "destinations[0].region"


def test_unknown_destination(estate):
    estate["datasets"][0]["destinations"] = ["nas", "b3"]
    assert problems(estate) == [("datasets[0].destinations[1]", "rule",
                                 "unknown destination 'b3'; declare it under destinations or use one of "
                                 "['b2', 'nas', 'r2']")]


def test_duplicate_dataset(estate):
    estate["datasets"].append(dict(estate["datasets"][1]))
    assert problems(estate) == [("datasets[6].name", "rule",
                                 "duplicate name 'grafana' (first used at datasets[1]); names must be unique")]


def test_tier1_without_offsite_available(estate):
    estate["destinations"] = estate["destinations"][:1]
    estate["datasets"] = [estate["datasets"][0]]
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "tier 1 needs at least one offsite copy; declare an offsite destination "
                                 "(b2, r2, s3 or s3-compatible)")]


def test_tier1_explicitly_local_only(estate):
    estate["datasets"][0]["destinations"] = ["nas"]
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "tier 1 needs at least one offsite copy; add one of ['b2', 'r2'] to its destinations")]


def test_tier1_offsite_only_on_r2(estate):
    estate["datasets"][0]["destinations"] = ["nas", "r2"]
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "dataset 'vaultwarden' is tier 1, whose offsite copies must be locked against early "
                                 "deletion, but none of its offsite destinations can hold a locked copy ('r2': R2 has "
                                 "no versioning and its bucket locks refuse the overwrites and deletes restic and "
                                 "pgBackRest make); add one of ['b2'] to its destinations")]


def test_tier1_offsite_only_on_garage_without_a_lockable_destination(estate):
    estate["destinations"] = [d for d in estate["destinations"] if d["kind"] not in ("b2", "r2")] + [
        {"name": "garage", "kind": "s3-compatible", "endpoint": "https://garage.friend.example", "flavour": "garage"}]
    estate["datasets"] = [estate["datasets"][0]]
    estate["datasets"][0].pop("destinations", None)
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "dataset 'vaultwarden' is tier 1, whose offsite copies must be locked against early "
                                 "deletion, but none of its offsite destinations can hold a locked copy ('garage': a "
                                 "garage server has no versioning or object lock); declare an offsite destination of "
                                 "kind b2, s3, or s3-compatible on a server with versioning and object lock (flavour "
                                 "ceph, idrive-e2, minio, storj, wasabi) and add it to its destinations")]


def test_tier1_with_r2_and_garage_beside_a_locked_copy_loads(estate):
    estate["destinations"].append({"name": "garage", "kind": "s3-compatible", "endpoint": "https://garage.example",
                                   "flavour": "garage"})
    estate["datasets"][0]["destinations"] = ["nas", "b2", "r2", "garage"]
    assert [d.name for d in load_inventory(estate).destinations_of(load_inventory(estate).datasets[0])] == [
        "nas", "b2", "r2", "garage"]


def test_tier1_two_copies_only(estate):
    estate["datasets"][0]["destinations"] = ["b2"]
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "tier 1 needs 3 copies (primary included) on 2 media; it has 2 on "
                                 "['cluster-disk', 'object-storage']: add a destination")]


def test_tier3_offsite_without_reason(estate):
    estate["datasets"][4]["destinations"] = ["nas", "b2"]
    assert problems(estate) == [("datasets[4].destinations", "rule",
                                 "tier 3 data is re-downloadable and stays local; remove ['b2'] or set "
                                 "offsite_override_reason")]


def test_bad_cron_window_time(estate):
    estate["schedule"] = {"maintenance_window": {"start": "25:00", "end": "05:00"}}
    assert problems(estate) == [("schedule.maintenance_window.start", "string_pattern_mismatch",
                                 "'25:00' is not a 24-hour time HH:MM, e.g. `01:30`")]


def test_retention_of_zero_below_tier_minimum(estate):
    estate["tiers"] = {"1": {"rpo_hours": 12, "offsite_rpo_hours": 24, "lock_days": 14, "verify_every_days": 7,
                             "alerts": ["out-of-sync", "missed-run", "never-ran"],
                             "local_retention": {"hourly": 48, "daily": 0, "monthly": 6},
                             "offsite_retention": {"daily": 30, "monthly": 12}}}
    assert problems(estate) == [("tiers.1.local_retention.daily", "rule",
                                 "keeps 0, below this tier's minimum of 14; use 14 or more")]


def test_negative_retention(estate):
    estate["tiers"] = {"2": {"rpo_hours": 24, "offsite_rpo_hours": 24,
                             "local_retention": {"daily": -1}, "offsite_retention": {}}}
    assert problems(estate) == [("tiers.2.local_retention.daily", "greater_than_equal",
                                 "Input should be greater than or equal to 0 (got -1)")]


def test_unknown_field(estate):
    estate["datasets"][0]["source"]["clam"] = "typo"
    assert problems(estate) == [("datasets[0].source.clam", "extra_forbidden",
                                 "unknown field; remove it or check its spelling against the README's inventory "
                                 "reference")]


def test_wrong_type(estate):
    estate["datasets"][0]["tier"] = "1"
    assert problems(estate) == [("datasets[0].tier", "literal_error", "'1' is not allowed; use one of 1, 2 or 3")]


def test_missing_endpoint(estate):
    estate["destinations"].append({"name": "storj", "kind": "s3-compatible", "flavour": "storj"})
    assert problems(estate) == [("destinations[3].endpoint", "missing", "required field is missing; add it")]


def test_unknown_destination_kind(estate):
    estate["destinations"][1]["kind"] = "dropbox"
    assert problems(estate) == [("destinations[1]", "union_tag_invalid",
                                 "unknown kind 'dropbox'; use one of 'nfs', 'b2', 'r2', 's3', 's3-compatible'")]


def test_ceph_filesystem_refused(estate):
    estate["datasets"][0]["source"]["storage_class"] = "ceph-filesystem"
    assert problems(estate) == [("datasets[0].source.storage_class", "value_error",
                                 "VolSync restores on ceph-filesystem can silently zero sparse files; move the claim "
                                 "to a block storage class (e.g. ceph-block) before protecting it")]


def test_rpo_looser_than_tier(estate):
    estate["datasets"][0]["rpo_hours"] = 48
    assert problems(estate) == [("datasets[0].rpo_hours", "rule",
                                 "48 h is looser than the tier 1 RPO of 12 h; use 12 or less")]


def test_postgres_on_nfs(estate):
    estate["datasets"][2]["destinations"] = ["nas", "b2", "r2"]
    assert problems(estate) == [("datasets[2].destinations[0]", "rule",
                                 "postgres datasets cannot use the nfs destination 'nas' (pgBackRest and cloud sync "
                                 "write to object storage); drop it")]


def test_export_target_must_be_truenas(estate):
    estate["datasets"][5]["source"]["target"] = "grafana"
    assert problems(estate) == [("datasets[5].source.target", "rule",
                                 "'grafana' is not a truenas dataset of this inventory; name the dataset that protects "
                                 "the NAS backup path")]


def test_render_mode_with_plain_secrets(estate):
    estate["kubernetes"] = {"mode": "render", "secret_delivery": "secret"}
    assert problems(estate) == [("kubernetes.secret_delivery", "rule",
                                 "render mode writes manifests for git, where a Secret would sit in plain text; use "
                                 "external-secret (values are exported as Pulumi secrets for escrow)")]


def test_tier_lock_required(estate):
    estate["tiers"] = {"1": {"rpo_hours": 6, "offsite_rpo_hours": 24, "lock_days": 0, "verify_every_days": 7,
                             "alerts": ["out-of-sync", "missed-run", "never-ran"],
                             "local_retention": {"hourly": 48, "daily": 30, "monthly": 6},
                             "offsite_retention": {"daily": 30, "monthly": 12}}}
    assert problems(estate) == [("tiers.1.lock_days", "rule", "offsite copies of this tier must be locked; set "
                                 "lock_days to at least 1 (default 14)")]


def test_unknown_section_and_empty_datasets(estate):
    estate["dataset"] = []
    estate["datasets"] = []
    assert problems(estate) == [
        ("datasets", "too_short", "needs at least one entry; add one"),
        ("dataset", "extra_forbidden", "unknown inventory section; use one of ['destinations', 'datasets', 'tiers', "
                                       "'schedule', 'monitoring', 'kubernetes', 'truenas', 'secret_store', "
                                       "'budget_usd_per_month', 'proxmox']"),
    ]


def test_every_problem_reported_at_once(estate):
    estate["datasets"][0]["source"]["claim"] = "Bad_Name"
    estate["destinations"][1]["region"] = "nowhere"
    estate["datasets"][1]["size_gb"] = 0
    found = problems(estate)
    assert [p[0] for p in found] == ["destinations[1].region", "datasets[0].source.claim", "datasets[1].size_gb"]
    assert "e.g. `us-west-004`" in found[0][2]


def test_error_message_lists_paths_and_says_nothing_applied(estate):
    estate["datasets"][0]["destinations"] = ["nope"]
    with pytest.raises(InventoryError) as caught:
        load_inventory(estate)
    text = str(caught.value)
    assert text.startswith("the backup inventory has 1 problem(s); nothing was changed:")
    assert "  - datasets[0].destinations[0]: unknown destination 'nope'" in text


def test_nas_datasets_need_a_truenas_section(estate):
    del estate["truenas"]
    assert problems(estate) == [("truenas", "rule", "datasets ['photos', 'grafana-db'] live on or write to the NAS; "
                                 "add a truenas section with at least `host: <nas hostname>`")]


def test_postgres_needs_an_https_object_store(estate):
    estate["destinations"].append({"name": "minio", "kind": "s3-compatible", "endpoint": "http://minio.lan:9000",
                                   "flavour": "minio", "offsite": False})
    estate["datasets"][2]["destinations"] = ["b2", "minio"]
    assert problems(estate) == [("datasets[2].destinations[1]", "rule",
                                 "pgBackRest reaches S3 over HTTPS only and 'minio' is http://minio.lan:9000; give "
                                 "that destination an https:// endpoint or keep this database off it")]


def test_tier2_database_needs_a_local_copy(estate):
    estate["datasets"].append({"name": "wiki-db", "tier": 2, "size_gb": 1, "destinations": ["b2"],
                               "source": {"kind": "postgres", "namespace": "wiki", "cluster": "wiki-pg"}})
    assert problems(estate) == [("datasets[6].destinations", "rule",
                                 "tier 2 needs a local copy; add a local destination (an NFS share, or for databases "
                                 "an object store on the LAN such as MinIO on the NAS)")]


def test_tier2_nas_dataset_needs_a_copy_off_the_nas(estate):
    estate["destinations"] = estate["destinations"][:1]
    estate["datasets"] = [{"name": "docs", "tier": 2, "size_gb": 5,
                           "source": {"kind": "truenas", "dataset": "tank/docs"}}]
    assert problems(estate) == [("datasets[0].destinations", "rule",
                                 "tier 2 needs a copy off the NAS's own disks (snapshots share its pool); add an "
                                 "offsite destination")]


def test_tier3_export_may_not_reach_offsite_through_its_target(estate):
    estate["datasets"][5]["tier"] = 3
    assert problems(estate) == [("datasets[5].source.target", "rule",
                                 "tier 3 data stays local, but 'photos' copies offsite; target a local-only dataset or "
                                 "set offsite_override_reason")]


def test_nas_datasets_that_need_alerts_need_healthchecks(estate):
    del estate["monitoring"]
    assert problems(estate) == [("monitoring.healthchecks", "rule",
                                 "datasets ['photos'] need alerting and NAS tasks report only through Healthchecks; "
                                 "set monitoring.healthchecks.ping_base")]
