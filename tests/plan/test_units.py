"""Protection units: one immutable record per dataset x tool with every name, job time, choice and key."""

from __future__ import annotations

import dataclasses

import pytest

from inventory import load_inventory
from plan import build_plan
from plan.names import CRONJOB_NAME_LIMIT
from plan.stagger import after_backups, every_days
from plan.units import CHECK_OFFSET_MINUTES, DRILL_CHECK_DELAY_MINUTES, DRILL_OFFSET_MINUTES, TRANSFER_MODE


@pytest.fixture
def plan(estate):
    return build_plan(load_inventory(estate))


def test_one_unit_per_dataset_in_inventory_order_with_its_tool(plan, estate):
    assert [u.dataset for u in plan.units] == [d["name"] for d in estate["datasets"]]
    tools = {u.dataset: u.tool for u in plan.units}
    assert tools == {"vaultwarden": "restic", "grafana": "kopia", "immich-db": "pgbackrest", "photos": "cloudsync",
                     "media": "restic", "grafana-db": "sqlite"}
    for unit in plan.units:
        assert unit.copies == plan.dataset(unit.dataset).copies
        assert [o.destination for o in unit.objects] == [c.destination for c in unit.copies]


def test_records_are_immutable(plan):
    unit = plan.units[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit.drill = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit.objects[0].backup_slug = "x"  # type: ignore[misc]


def test_the_drilled_copy_is_chosen_once_per_kind(estate):
    estate["datasets"][5]["tier"] = 1  # grafana-db: tier 1 drills its export
    plan = build_plan(load_inventory(estate))
    unit = plan.unit
    assert unit("vaultwarden").drill.destination == plan.dataset("vaultwarden").copies[0].destination
    assert unit("immich-db").drill.destination == plan.dataset("immich-db").copies[0].destination
    first_offsite = next(c for c in plan.dataset("photos").copies if c.offsite)
    assert unit("photos").drill.destination == first_offsite.destination
    assert unit("grafana-db").drill.destination == "photos", "an export drills its dumps on the NAS"
    assert unit("media").drill is None, "tier 3 schedules no drill"
    assert unit("photos").drill.repo_index == plan.dataset("photos").copies.index(first_offsite) + 1


def test_check_and_drill_times_follow_the_backups_they_read(plan):
    for unit in plan.units:
        copies = {c.destination: c for c in unit.copies}
        for job in unit.checks:
            backups = copies[job.destination].schedule
            assert job.schedule == every_days(after_backups(backups, CHECK_OFFSET_MINUTES),
                                              unit.plan.verify_every_days, f"{unit.dataset}/{job.destination}/check")
        if unit.drill is not None:
            backups = copies[unit.drill.destination].schedule
            restore = every_days(after_backups(backups, DRILL_OFFSET_MINUTES), unit.plan.drill_every_days,
                                 f"{unit.dataset}/{unit.drill.destination}/drill")
            if unit.kind == "pvc":
                assert unit.drill.restore_at == restore
                assert unit.drill.schedule == restore.shifted(DRILL_CHECK_DELAY_MINUTES)
            else:
                assert unit.drill.schedule == restore and unit.drill.restore_at is None


def test_checks_cover_every_copy_of_pvc_and_postgres_datasets_only(plan):
    for unit in plan.units:
        expected = [c.destination for c in unit.copies] \
            if unit.kind in ("pvc", "postgres") and unit.plan.verify_every_days else []
        assert [j.destination for j in unit.checks] == expected, unit.dataset
        for job in unit.checks:
            assert job.slug == f"{unit.copy_objects(job.destination).backup_slug}-check"
            assert len(job.name) <= CRONJOB_NAME_LIMIT and job.secret


def test_check_secrets_read_only_where_the_tool_allows(plan):
    vaultwarden, grafana, immich = plan.unit("vaultwarden"), plan.unit("grafana"), plan.unit("immich-db")
    assert all(j.secret == vaultwarden.copy_objects(j.destination).repository_secret for j in vaultwarden.checks), \
        "restic writes its lock into the repository"
    for unit in (grafana, immich):
        for job in unit.checks:
            names = unit.copy_objects(job.destination)
            assert job.secret == (names.reader_secret or names.repository_secret)
    assert immich.drill.secret == immich.copy_objects(immich.drill.destination).reader_secret


def test_every_slug_is_unique_across_the_plan(plan):
    slugs = [s for unit in plan.units if unit.kind != "export" for s in unit.slugs]
    assert len(slugs) == len(set(slugs))


def test_credential_keys_name_a_writer_of_the_bucket(plan):
    writers = {(b.key, w.key) for b in plan.buckets for w in b.writers}
    for unit in plan.units:
        for destination, key in unit.credentials.items():
            assert key in writers, (unit.dataset, destination)
        in_buckets = {c.destination for c in unit.copies if c.kind != "nfs"}
        assert set(unit.credentials) == (set() if unit.kind == "export" else in_buckets)


def test_nas_transfer_mode_never_propagates_deletions_for_tier_1(plan):
    assert plan.unit("photos").transfer_mode == TRANSFER_MODE[1] == "COPY"
    assert all(u.transfer_mode is None for u in plan.units if u.kind != "truenas")


def test_repository_settings_are_decided_in_the_plan(plan):
    vaultwarden = plan.unit("vaultwarden")
    for copy in vaultwarden.copies:
        repository = vaultwarden.copy_objects(copy.destination).repository
        assert repository.secrets["RESTIC_PASSWORD"] == "repository_password"
        assert copy.repository in repository.values["RESTIC_REPOSITORY"]
    immich = plan.unit("immich-db")
    for n, copy in enumerate(immich.copies, start=1):
        repo = immich.copy_objects(copy.destination).pgbackrest
        assert repo.index == n and repo.options()[f"repo{n}-path"] == "/" + copy.repository
        assert set(repo.secret_options()) == {f"repo{n}-cipher-pass", f"repo{n}-s3-key", f"repo{n}-s3-key-secret"}
