"""plan/repositories.py: how restic, kopia and pgBackRest open one copy's repository, on NFS and on S3."""

from __future__ import annotations

import dataclasses

import pytest

from inventory import load_inventory
from plan import build_plan
from plan.model import PgBackRestSchedule
from plan.repositories import CHECKSUM_ENV, pgbackrest_repository, repository_dir, volsync_repository


@pytest.fixture
def copy(estate):
    """A real copy of the base estate's plan, to vary one field at a time."""
    plan = build_plan(load_inventory(estate))
    return next(c for dp in plan.datasets for c in dp.copies if c.tool in ("restic", "kopia"))


def _s3(copy, endpoint="https://s3.example.net:9000", **changes):
    return dataclasses.replace(copy, kind="s3-compatible", endpoint=endpoint, bucket="bkt", repository="pvc/app",
                               region="eu", **changes)


def test_restic_on_nfs_is_a_folder_under_the_mount_with_no_s3_keys(copy):
    nfs = dataclasses.replace(copy, kind="nfs", tool="restic")
    settings = volsync_repository(nfs)
    assert settings.values == {"RESTIC_REPOSITORY": repository_dir(nfs)}
    assert repository_dir(nfs) == f"/mnt/{nfs.destination}/{nfs.bucket}/{nfs.repository}"
    assert settings.secrets == {"RESTIC_PASSWORD": "repository_password"}


def test_restic_on_s3_names_bucket_and_path_and_reads_the_writer_keys(copy):
    settings = volsync_repository(_s3(copy, tool="restic", checksum_env=True))
    assert settings.values["RESTIC_REPOSITORY"] == "s3:https://s3.example.net:9000/bkt/pvc/app"
    assert settings.values["AWS_DEFAULT_REGION"] == "eu"
    assert CHECKSUM_ENV.items() <= settings.values.items()
    assert settings.secrets == {"RESTIC_PASSWORD": "repository_password", "AWS_ACCESS_KEY_ID": "access_key_id",
                                "AWS_SECRET_ACCESS_KEY": "secret_access_key"}


def test_kopia_on_s3_takes_the_host_and_turns_tls_off_only_for_http(copy):
    https = volsync_repository(_s3(copy, tool="kopia", checksum_env=False))
    assert https.values == {"KOPIA_REPOSITORY": "s3://bkt/pvc/app", "KOPIA_S3_ENDPOINT": "s3.example.net:9000",
                            "AWS_REGION": "eu"}
    plain = volsync_repository(_s3(copy, endpoint="http://minio.lan:9000", tool="kopia", checksum_env=False))
    assert plain.values["KOPIA_S3_DISABLE_TLS"] == "true"


def test_kopia_without_a_scheme_and_an_unknown_tool_are_refused_naming_the_copy(copy):
    with pytest.raises(ValueError, match=rf"{copy.dataset}-{copy.destination}: S3 endpoint 'minio.lan' needs"):
        volsync_repository(_s3(copy, endpoint="minio.lan", tool="kopia"))
    with pytest.raises(ValueError, match="VolSync moves restic or kopia repositories, not rclone"):
        volsync_repository(dataclasses.replace(copy, tool="rclone"))


def test_pgbackrest_repository_options_from_the_copy(copy):
    pg = _s3(copy, endpoint="https://s3.example.net:9000", tool="pgbackrest",
             pgbackrest=PgBackRestSchedule(full="0 1 * * 0", diff="0 1 * * 1-6", retention_full=5,
                                           retention_diff=7))
    repo = pgbackrest_repository(pg, 2, "db-b2-credentials")
    assert repo.options() == {
        "repo2-cipher-type": "aes-256-cbc", "repo2-path": "/pvc/app", "repo2-retention-diff": "7",
        "repo2-retention-full": "5", "repo2-retention-full-type": "count", "repo2-s3-bucket": "bkt",
        "repo2-s3-endpoint": "s3.example.net", "repo2-s3-region": "eu", "repo2-s3-uri-style": "path",
        "repo2-storage-port": "9000", "repo2-storage-verify-tls": "y", "repo2-type": "s3"}
    assert repo.secret_options() == {"repo2-cipher-pass": "cipher_pass", "repo2-s3-key": "access_key_id",
                                     "repo2-s3-key-secret": "secret_access_key"}
    assert "repo2-storage-port" not in pgbackrest_repository(
        dataclasses.replace(pg, endpoint="https://s3.example.net"), 2, "s").options()


def test_a_pgbackrest_repository_needs_the_plans_schedule(copy):
    with pytest.raises(ValueError, match="carries no pgBackRest schedule"):
        pgbackrest_repository(dataclasses.replace(copy, pgbackrest=None), 1, "s")
