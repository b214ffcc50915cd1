"""The backup tools work with the narrowed keys the program creates, on a server that enforces them (real MinIO).

restic, rclone (TrueNAS cloud sync) and pgBackRest back up with a writer key limited to one bucket prefix, and their
checks and restores run with the read-only key of that prefix; a read-only key that tries to write is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.minio_admin import MinioUserProvider
from tests.drills.helpers import require_tool
from tests.drills.postgres import PgCluster, give_to_pg_user, run
from tests.drills.stanza import pg_work_dir, private_conf, trusted_ca
from tests.engine.project import free_port
from tests.minio_server import MinioServer, minio_server

pytestmark = [pytest.mark.slow]

BUCKET = "hlb-nas-s3-tier1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    try:
        with minio_server(tmp_path_factory.mktemp("minio-tools")) as running:
            admin = running.s3(running.root)
            admin.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
            admin.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
            yield running
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def keys(server: MinioServer) -> Iterator[Any]:
    """prefix -> {"write": key, "read": key}, created through the provider as `pulumi up` would."""
    provider = MinioUserProvider()
    created: list[Any] = []

    def make(prefix: str) -> dict[str, dict[str, str]]:
        pair = {}
        for access in ("write", "read"):
            result = provider.create({
                "user_name": f"hlb-{prefix.replace('/', '-')}-{access}", "endpoint": server.endpoint,
                "bucket": BUCKET, "prefix": prefix, "access": access, "ca_file": str(server.certificates.ca),
                "credentials": dict(server.root)})
            created.append(result)
            pair[access] = {"access_key_id": result.outs["access_key_id"],
                            "secret_access_key": result.outs["secret_access_key"]}
        return pair

    yield make
    for result in created:
        provider.delete(result.id, result.outs)


def _run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{' '.join(result.args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_restic_backs_up_prunes_and_checks_with_the_writer_key_and_restores_with_the_read_only_key(
        server: MinioServer, keys: Any, tmp_path: Path) -> None:
    require_tool("restic")
    pair = keys("volsync/security/vaultwarden-data")

    def env(key: dict[str, str]) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                "RESTIC_REPOSITORY": f"s3:{server.endpoint}/{BUCKET}/volsync/security/vaultwarden-data",
                "RESTIC_PASSWORD": "drill",
                "RESTIC_CACHE_DIR": str(tmp_path / "cache"), "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": key["access_key_id"], "AWS_SECRET_ACCESS_KEY": key["secret_access_key"]}

    def restic(*args: str) -> list[str]:
        # restic 0.14 reads the CA from the flag only (RESTIC_CACERT came later); VolSync passes its customCA so.
        return ["restic", f"--cacert={server.certificates.ca}", *args]

    source = tmp_path / "data"
    source.mkdir()
    writer, reader = env(pair["write"]), env(pair["read"])
    _ok(_run(restic("init"), writer))
    for generation in range(2):
        (source / "db.sqlite3").write_bytes(os.urandom(64 * 1024) + bytes([generation]))
        _ok(_run(restic("backup", "--host", "drill", "."), writer, cwd=source))
    _ok(_run(restic("forget", "--keep-last", "1", "--prune"), writer))
    _ok(_run(restic("check", "--read-data"), writer))

    assert "1 snapshots" in _ok(_run(restic("snapshots", "--no-lock"), reader))
    restored = tmp_path / "restored"
    _ok(_run(restic("restore", "latest", "--no-lock", "--target", str(restored)), reader))
    assert (restored / "db.sqlite3").read_bytes() == (source / "db.sqlite3").read_bytes()
    refused = _run(restic("backup", "--host", "thief", "."), reader, cwd=source)
    assert refused.returncode != 0 and "Access Denied" in refused.stderr


def test_rclone_cloud_sync_pushes_with_the_writer_key_and_the_drill_reads_with_the_read_only_key(
        server: MinioServer, keys: Any, tmp_path: Path) -> None:
    require_tool("rclone")
    pair = keys("cloudsync/storage0/photos")

    def env(key: dict[str, str]) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "RCLONE_CONFIG": "/dev/null",
                "RCLONE_CA_CERT": str(server.certificates.ca), "RCLONE_CONFIG_NAS_TYPE": "s3",
                "RCLONE_CONFIG_NAS_PROVIDER": "Minio", "RCLONE_CONFIG_NAS_ENDPOINT": server.endpoint,
                "RCLONE_CONFIG_NAS_REGION": "us-east-1", "RCLONE_CONFIG_NAS_ACCESS_KEY_ID": key["access_key_id"],
                "RCLONE_CONFIG_NAS_SECRET_ACCESS_KEY": key["secret_access_key"]}

    source = tmp_path / "photos"
    source.mkdir()
    (source / "a.jpg").write_bytes(b"jpeg" * 1000)
    remote = f"nas:{BUCKET}/cloudsync/storage0/photos"
    _ok(_run(["rclone", "copy", str(source), remote], env(pair["write"])))
    assert _ok(_run(["rclone", "lsf", remote], env(pair["read"]))).split() == ["a.jpg"]
    _ok(_run(["rclone", "copy", remote, str(tmp_path / "back")], env(pair["read"])))
    assert (tmp_path / "back" / "a.jpg").read_bytes() == (source / "a.jpg").read_bytes()
    refused = _run(["rclone", "copy", str(source), f"{remote}-evil"], env(pair["read"]))
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    elsewhere = _run(["rclone", "lsf", f"nas:{BUCKET}/volsync"], env(pair["write"]))
    assert elsewhere.returncode != 0 and "AccessDenied" in elsewhere.stderr


def test_pgbackrest_archives_and_backs_up_with_the_writer_key_and_verifies_and_restores_read_only(
        server: MinioServer, keys: Any) -> None:
    require_tool("pgbackrest")
    prefix = "pgbackrest/database/drill-pg"
    pair = keys(prefix)
    base = pg_work_dir("hlb-pg-keys-")
    ca = trusted_ca(base, server.certificates.ca)
    port = free_port()
    host_port = server.endpoint.removeprefix("https://").rsplit(":", 1)

    def conf(name: str, key: dict[str, str]) -> Path:
        return private_conf(base / f"{name}.conf", "\n".join([
            "[global]", "repo1-type=s3", f"repo1-s3-bucket={BUCKET}", f"repo1-s3-endpoint={host_port[0]}",
            f"repo1-storage-port={host_port[1]}", "repo1-s3-region=us-east-1", "repo1-s3-uri-style=path",
            f"repo1-path=/{prefix}", f"repo1-storage-ca-file={ca}", f"repo1-s3-key={key['access_key_id']}",
            f"repo1-s3-key-secret={key['secret_access_key']}", "repo1-retention-full=1",
            f"lock-path={base}/lock-{name}", f"log-path={base}", "log-level-console=warn", "start-fast=y",
            "[drill]", f"pg1-path={base}/primary", f"pg1-port={port}", f"pg1-socket-path={base}", ""]))

    writer, reader = conf("writer", pair["write"]), conf("reader", pair["read"])
    primary = PgCluster(base, "primary", port)
    try:
        primary.initdb({"wal_level": "replica", "archive_mode": "on", "fsync": "off",
                        "archive_command": f"'pgbackrest --config={writer} --stanza=drill archive-push %p'"})
        primary.start()
        primary.sql("create table drill as select g as id from generate_series(1, 1000) g")
        run(["pgbackrest", f"--config={writer}", "--stanza=drill", "stanza-create"], timeout=300)
        run(["pgbackrest", f"--config={writer}", "--stanza=drill", "--type=full", "backup"], timeout=300)

        verified = run(["pgbackrest", f"--config={reader}", "--stanza=drill", "verify", "--output=text",
                        "--verbose"], timeout=300)
        assert "status: ok" in verified.stdout, verified.stdout
        restore = base / "restored"
        restore.mkdir(mode=0o700)
        give_to_pg_user(restore)
        run(["pgbackrest", f"--config={reader}", "--stanza=drill", f"--pg1-path={restore}", "restore"], timeout=300)
        assert (restore / "PG_VERSION").is_file() and (restore / "global" / "pg_control").is_file()
        refused = run(["pgbackrest", f"--config={reader}", "--stanza=drill", "--type=full", "backup"], timeout=300,
                      check=False)
        assert refused.returncode != 0 and "AccessDenied" in refused.stdout + refused.stderr
    finally:
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)
