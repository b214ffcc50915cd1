"""One source, one repository: shared sources, repeated destinations and colliding buckets are refused."""

from __future__ import annotations

from inventory import load_inventory
from tests.inventory.problems import problems


def _pvc(name: str, namespace: str, claim: str, tier: int = 2) -> dict:
    return {"name": name, "tier": tier, "size_gb": 1,
            "source": {"kind": "pvc", "namespace": namespace, "claim": claim, "storage_class": "ceph-block",
                       "capacity": "5Gi"}}


def test_two_datasets_on_one_pvc(estate):
    estate["datasets"].append(_pvc("grafana-again", "monitoring", "grafana"))
    assert problems(estate) == [("datasets[6].source.claim", "rule",
                                 "'grafana-again' protects the same PVC 'monitoring/grafana' as 'grafana' "
                                 "(datasets[1]); two datasets would write one repository with different keys and "
                                 "schedules: keep one of them and list every destination there")]


def test_same_claim_name_in_another_namespace_is_another_pvc(estate):
    estate["datasets"].append(_pvc("grafana-staging", "staging", "grafana"))
    assert len(load_inventory(estate).datasets) == 7


def test_two_datasets_on_one_cnpg_cluster(estate):
    estate["datasets"].append({"name": "immich-db-2", "tier": 1, "size_gb": 1,
                               "source": {"kind": "postgres", "namespace": "database", "cluster": "postgres18-immich"}})
    assert problems(estate) == [("datasets[6].source.cluster", "rule",
                                 "'immich-db-2' protects the same CNPG cluster 'database/postgres18-immich' as "
                                 "'immich-db' (datasets[2]); two datasets would write one repository with different "
                                 "keys and schedules: keep one of them and list every destination there")]


def test_two_datasets_on_one_nas_dataset(estate):
    estate["datasets"].append({"name": "photos-2", "tier": 2, "size_gb": 1,
                               "source": {"kind": "truenas", "dataset": "storage0/photos"}})
    assert problems(estate) == [("datasets[6].source.dataset", "rule",
                                 "'photos-2' protects the same NAS dataset 'storage0/photos' as 'photos' "
                                 "(datasets[3]); two datasets would write one repository with different keys and "
                                 "schedules: keep one of them and list every destination there")]


def test_nas_dataset_inside_a_recursive_one(estate):
    estate["datasets"][3]["source"] = {"kind": "truenas", "dataset": "storage0", "recursive": True}
    estate["datasets"].append({"name": "photos-raw", "tier": 2, "size_gb": 1,
                               "source": {"kind": "truenas", "dataset": "storage0/photos/raw"}})
    assert problems(estate) == [("datasets[6].source.dataset", "rule",
                                 "'storage0/photos/raw' of 'photos-raw' lies inside 'storage0', which 'photos' "
                                 "(datasets[3]) snapshots recursively, so two tasks would snapshot and prune it; add "
                                 "'storage0/photos/raw' to the exclude of 'photos' or drop 'photos-raw'")]


def test_nas_dataset_inside_several_recursive_ones_names_each_in_inventory_order(estate):
    estate["datasets"][3]["source"] = {"kind": "truenas", "dataset": "storage0/photos", "recursive": True}
    estate["datasets"] += [
        {"name": "nas-root", "tier": 2, "size_gb": 1,
         "source": {"kind": "truenas", "dataset": "storage0", "recursive": True}},
        {"name": "photos-raw", "tier": 2, "size_gb": 1,
         "source": {"kind": "truenas", "dataset": "storage0/photos/raw"}},
        {"name": "photos-rawer", "tier": 2, "size_gb": 1,  # beside photos, not inside it
         "source": {"kind": "truenas", "dataset": "storage0/photos-raw"}},
    ]

    def inside(i: int, child: str, name: str, parent: str, owner: str, j: int) -> tuple[str, str, str]:
        return (f"datasets[{i}].source.dataset", "rule",
                f"{child!r} of {name!r} lies inside {parent!r}, which {owner!r} (datasets[{j}]) snapshots recursively, "
                f"so two tasks would snapshot and prune it; add {child!r} to the exclude of {owner!r} or drop {name!r}")

    assert problems(estate) == [
        inside(3, "storage0/photos", "photos", "storage0", "nas-root", 6),
        inside(7, "storage0/photos/raw", "photos-raw", "storage0/photos", "photos", 3),
        inside(7, "storage0/photos/raw", "photos-raw", "storage0", "nas-root", 6),
        inside(8, "storage0/photos-raw", "photos-rawer", "storage0", "nas-root", 6),
    ]


def test_nested_nas_dataset_is_fine_when_excluded_or_not_recursive(estate):
    child = {"name": "photos-raw", "tier": 2, "size_gb": 1,
             "source": {"kind": "truenas", "dataset": "storage0/photos/raw"}}
    estate["datasets"].append(child)
    assert len(load_inventory(estate).datasets) == 7
    estate["datasets"][3]["source"] |= {"recursive": True, "exclude": ["storage0/photos/raw"]}
    assert len(load_inventory(estate).datasets) == 7


def test_destination_listed_twice(estate):
    estate["datasets"][0]["destinations"] = ["nas", "b2", "b2"]
    assert problems(estate) == [("datasets[0].destinations[2]", "rule",
                                 "'b2' is listed twice in 'vaultwarden' (first at destinations[1]); one destination "
                                 "holds one copy, so remove the repeat (3-2-1 counts distinct copies)")]


def test_bucket_prefixes_collide_on_one_endpoint(estate):
    estate["destinations"] += [
        {"name": "minio-a", "kind": "s3-compatible", "endpoint": "https://minio.lan", "bucket_prefix": "backups"},
        {"name": "minio-b", "kind": "s3-compatible", "endpoint": "https://minio.lan", "bucket_prefix": "backups"},
    ]
    assert problems(estate) == [("destinations[4].bucket_prefix", "rule",
                                 "'minio-b' and 'minio-a' (destinations[3]) would both use buckets named "
                                 "backups-tier<N> in endpoint https://minio.lan; give one of them a distinct "
                                 "bucket_prefix")]


def test_default_bucket_name_collides_with_a_prefix(estate):
    estate["destinations"].append({"name": "b2-eu", "kind": "b2", "region": "eu-central-003",
                                   "bucket_prefix": "hlb-b2"})
    assert problems(estate) == [("destinations[3].bucket_prefix", "rule",
                                 "'b2-eu' and 'b2' (destinations[1]) would both use buckets named hlb-b2-tier<N> in "
                                 "Backblaze B2 (bucket names are global); give one of them a distinct bucket_prefix")]


def test_same_prefix_on_different_servers_is_fine(estate):
    estate["destinations"] += [
        {"name": "minio-a", "kind": "s3-compatible", "endpoint": "https://minio-a.lan", "bucket_prefix": "backups"},
        {"name": "minio-b", "kind": "s3-compatible", "endpoint": "https://minio-b.lan", "bucket_prefix": "backups"},
    ]
    assert len(load_inventory(estate).destinations) == 5
