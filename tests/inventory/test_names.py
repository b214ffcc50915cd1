"""Every derived name fits where it lands and names one thing only; the message names the field to shorten."""

from __future__ import annotations

from inventory import load_inventory
from inventory.names import bucket_name_problem
from tests.inventory.problems import problems


def test_long_dataset_name_overflows_the_volsync_mover_job(estate):
    estate["datasets"][0]["name"] = "vaultwarden-" + "x" * 30
    assert problems(estate) == [("datasets[0].name", "rule",
                                 "Kubernetes Job (VolSync mover) 'volsync-dst-vaultwarden-"
                                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-nas-restore' derived from "
                                 "'vaultwarden-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is 66 "
                                 "characters, over the limit of 63; shorten the dataset name or the destination name "
                                 "by 3 or more")]


def test_iam_user_name_is_never_cut_to_64(estate):
    estate["destinations"].append({"name": "aws", "kind": "s3", "region": "eu-west-1",
                                   "bucket_prefix": "homelab-backups-offsite-copies"})
    estate["datasets"][0] |= {"name": "vaultwarden-application-data", "destinations": ["nas", "aws"]}
    assert problems(estate) == [("datasets[0].name", "rule",
                                 "IAM user 'homelab-backups-offsite-copies-tier1-vaultwarden-application-data-restic' "
                                 "derived from 'vaultwarden-application-data' is 72 characters, over the limit of 64; "
                                 "shorten the dataset name or the destination's bucket_prefix by 8 or more")]


def test_joined_names_collide(estate):
    estate["destinations"] += [{"name": "x", "kind": "s3-compatible", "endpoint": "https://x.example"},
                               {"name": "b2-x", "kind": "s3-compatible", "flavour": "minio",
                                "endpoint": "https://y.example"}]
    estate["datasets"][0]["destinations"] = ["nas", "b2-x"]
    estate["datasets"].append({"name": "vaultwarden-b2", "tier": 2, "size_gb": 1, "destinations": ["nas", "x"],
                               "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "other",
                                          "storage_class": "ceph-block", "capacity": "5Gi"}})
    assert problems(estate) == [("datasets[6].name", "rule",
                                 "Healthchecks slug 'backup-vaultwarden-b2-x' in the Healthchecks project is derived "
                                 "from both 'vaultwarden' and 'vaultwarden-b2'; rename one of them (the dataset name "
                                 "or the destination name) so the joined names differ")]


def test_bucket_prefix_with_punycode_prefix(estate):
    estate["destinations"][1]["bucket_prefix"] = "xn--backups"
    assert problems(estate) == [("destinations[1].bucket_prefix", "rule",
                                 "B2 bucket 'xn--backups-tier1' derived from 'b2' starts with 'xn--', which S3 bucket "
                                 "naming reserves; change bucket_prefix")]


def test_b2_bucket_prefix_b2_is_reserved(estate):
    estate["destinations"][1]["bucket_prefix"] = "b2-backups"
    assert problems(estate) == [("destinations[1].bucket_prefix", "rule",
                                 "B2 bucket 'b2-backups-tier1' derived from 'b2' starts with 'b2-', which B2 reserves; "
                                 "change bucket_prefix")]


def test_default_bucket_name_blames_the_destination_name(estate):
    estate["destinations"][2]["name"] = "sthree-r2"
    estate["destinations"][2]["bucket_prefix"] = "sthree-x"
    assert problems(estate) == [("destinations[2].bucket_prefix", "rule",
                                 "R2 bucket 'sthree-x-tier1' derived from 'sthree-r2' starts with 'sthree-', which S3 "
                                 "bucket naming reserves; change bucket_prefix")]


def test_postgres_check_cronjob_leaves_room_for_job_suffix(estate):
    estate["datasets"][2]["name"] = "immich-database-" + "d" * 20
    estate["destinations"][2]["name"] = "r2-cloudflare-eu"
    assert problems(estate) == [("datasets[2].name", "rule",
                                 "Kubernetes CronJob 'immich-database-dddddddddddddddddddd-r2-cloudflare-eu-check' "
                                 "derived from 'immich-database-dddddddddddddddddddd' is 59 characters, over the limit "
                                 "of 52; shorten the dataset name or the destination name by 7 or more")]


def test_bucket_rules():
    assert bucket_name_problem("a.b-tier1", "S3 bucket") is None
    assert bucket_name_problem("a.b-tier1", "R2 bucket") == "has characters bucket names refuse"
    assert bucket_name_problem("backups-s3alias", "S3 bucket") == (
        "ends with '-s3alias', which S3 bucket naming reserves")
    assert bucket_name_problem("192.168.1.1", "S3 bucket") == "looks like an IP address"
    assert bucket_name_problem("ab", "S3 bucket") == "is shorter than 3 characters"
    assert bucket_name_problem("abcde", "B2 bucket") == "is shorter than 6 characters"
    assert bucket_name_problem("a..b", "S3 bucket") == "must not contain '..', '.-' or '-.'"


def test_longest_allowed_names_load(estate):
    estate["datasets"][0]["name"] = "vaultwarden-" + "x" * 27
    assert load_inventory(estate).datasets[0].name.endswith("x")
