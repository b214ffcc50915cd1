"""dataset-enforce-copies-and-media: the estate passes; too few copies or media are named with what there is."""

from __future__ import annotations

from policies.rules import dataset_enforce_copies_and_media as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier1_database_with_one_offsite_copy():
    estate = f.Estate()
    estate.stanza.props["spec"]["stanzaConfiguration"]["s3Repositories"].pop()
    estate.remove(estate.pg_r2_full, estate.pg_r2_diff)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset immich-db (tier 1) has 2 copies including the primary, below 3 (primary on cluster-disk; copies: b2 "
        "(object-storage, offsite)); add destinations to datasets[immich-db].destinations, on a medium other than "
        "cluster-disk."]


def test_tier2_pvc_with_no_copy_at_all():
    estate = f.Estate()
    estate.remove(estate.grafana_nas)
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset grafana (tier 2) has 1 copies including the primary, below 2 and 0 local copies, below 1 (primary on "
        "cluster-disk; copies: none); add destinations to datasets[grafana].destinations, on a medium other than "
        "cluster-disk and at least one of them local (an NFS share or a bucket on the LAN)."]


def test_tier2_dataset_with_offsite_copies_only():
    estate = f.Estate()
    estate.add(kinds.B2_BUCKET, "hlb-b2-tier2-bucket", f.b2_bucket() | {
        "bucket_name": "hlb-b2-tier2", "bucket_info": f.bucket_labels(2, "b2", True, 0)})
    spec = estate.grafana_nas.props["spec"]["kopia"]
    del spec["moverVolumes"]
    estate.grafana_nas.props["metadata"]["labels"]["backup.homelab/destination"] = "b2"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "dataset grafana (tier 2) has 0 local copies, below 1 (primary on cluster-disk; copies: b2 (object-storage, "
        "offsite)); add destinations to datasets[grafana].destinations, at least one of them local (an NFS share or a "
        "bucket on the LAN)."]


def test_nas_snapshots_are_the_local_copy_of_nas_data():
    estate = f.Estate()
    estate.remove(*estate.snapshots)
    config = {"tiers": {"1": {"minLocalCopies": 1}}}
    messages = f.run_stack(POLICY, estate.nodes, config=config).messages
    assert [m.split(" (primary")[0] for m in messages] == [
        "dataset immich-db (tier 1) has 0 local copies, below 1", "dataset photos (tier 1) has 0 local copies, below 1"]
    assert f.run_stack(POLICY, f.Estate().nodes, config=config).messages[0].startswith("dataset immich-db")


def test_media_minimum_comes_from_config():
    config = {"tiers": {"2": {"minMedia": 4}}}
    assert f.run_stack(POLICY, f.Estate().nodes, config=config).messages == [
        "dataset db-dump (tier 2) has 3 media (cluster-disk, nas-disk, object-storage), below 4 (primary on "
        "cluster-disk; copies: photos (nas-disk, local); b2 (object-storage, offsite, via cloudsync); r2 "
        "(object-storage, offsite, via cloudsync)); add destinations to datasets[db-dump].destinations, on a medium "
        "other than cluster-disk.",
        "dataset grafana (tier 2) has 2 media (cluster-disk, nas-disk), below 4 (primary on cluster-disk; copies: nas "
        "(nas-disk, local)); add destinations to datasets[grafana].destinations, on a medium other than cluster-disk."]


def test_nas_config_and_db_exports_count_their_targets_copies():
    estate = f.Estate()
    estate.add_nas_config()
    estate.add_db_export()
    assert f.run_stack(POLICY, estate.nodes).messages == []


def test_nas_config_whose_target_has_no_offsite_copy_falls_short():
    estate = f.Estate()
    estate.add_nas_config(target="media")
    messages = f.run_stack(POLICY, estate.nodes).messages
    assert messages == [
        "dataset nas-config (tier 1) has 2 copies including the primary, below 3 and 1 media (nas-disk), below 2 "
        "(primary on "
        "nas-disk; copies: media (nas-disk, local)); add destinations to datasets[nas-config].destinations, on a "
        "medium other than nas-disk."]
