"""pgBackRest restore drill: a real PostgreSQL cluster archiving and backing up through the Stanza the program
rendered (two TLS S3 repositories in Tier 1 buckets with lock and lifecycle), then a point-in-time restore to a
marked transaction into a new data directory, and retention expiry on the locked bucket."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runbook.pgbackrest import StanzaOptions
from tests.drills.estate import PG_DATASET, PG_DESTINATIONS, DrillEstate
from tests.drills.helpers import header_counts, require_tool, tool_version, tree_size, versions
from tests.drills.postgres import PgCluster, give_to_pg_user, run
from tests.drills.records import RECORDS, DrillRecord
from tests.drills.stanza import drill_stanza, pg_work_dir
from tests.engine.project import free_port

pytestmark = [pytest.mark.slow, pytest.mark.engine]

CHECKSUM = "select count(*) || ':' || md5(string_agg(id::text || '=' || payload, ',' order by id)) from drill"


@dataclass
class PgDrill:
    estate: DrillEstate
    base: Path
    conf: Path
    mapped: StanzaOptions
    primary: PgCluster
    mark_xid: str
    at_mark: str
    """Row count and checksum right after the marked transaction committed."""
    put_headers: dict[str, int]

    def pgbackrest(self, *args: str, check: bool = True) -> str:
        return run(["pgbackrest", f"--config={self.conf}", f"--stanza={self.mapped.stanza}", *args],
                   timeout=300, check=check).stdout

    def info(self) -> dict[str, Any]:
        (stanza,) = json.loads(self.pgbackrest("info", "--output=json"))
        return stanza


def _insert(cluster: PgCluster, first: int, last: int) -> None:
    cluster.sql(f"insert into drill select g, md5(g::text) || repeat('x', 64) from generate_series({first}, {last}) g")


@pytest.fixture(scope="module")
def pg_drill(estate: DrillEstate) -> Iterator[PgDrill]:
    require_tool("pgbackrest")
    base = pg_work_dir("hlb-pg-drill-")
    setup = drill_stanza(base, estate.certs.ca, estate.one("Stanza", PG_DATASET), estate.resolve)
    conf, mapped = setup.conf, setup.options
    primary = PgCluster(base, "primary", setup.port)
    try:
        # The Stanza leaves startFast unset, so each backup begins with a spread checkpoint; a drill server that
        # spreads it over no time keeps the backup options exactly as rendered and the drill short.
        primary.initdb({
            "wal_level": "replica", "archive_mode": "on", "fsync": "off", "checkpoint_completion_target": "0",
            "archive_command": setup.archive_command(),
        })
        primary.start()
        mark = estate.tls.mark()
        drill = PgDrill(estate, base, conf, mapped, primary, "", "", {})
        drill.pgbackrest("stanza-create")
        drill.pgbackrest("check")
        primary.sql("create table drill (id bigint primary key, payload text not null)")
        _insert(primary, 1, 40_000)
        drill.pgbackrest("backup", "--repo=1", "--type=full")
        _insert(primary, 40_001, 50_000)
        drill.pgbackrest("backup", "--repo=1", "--type=diff")
        _insert(primary, 50_001, 55_000)
        drill.pgbackrest("backup", "--repo=1", "--type=incr")
        _insert(primary, 55_001, 56_000)
        drill.mark_xid = primary.sql("insert into drill values (0, 'the marked transaction') returning txid_current()")
        drill.at_mark = primary.sql(CHECKSUM)
        primary.sql("delete from drill where id % 3 = 0")
        _insert(primary, 90_001, 91_000)
        drill.pgbackrest("check")  # switches WAL and waits until every repository has archived it
        drill.put_headers = header_counts(estate.tls.since(mark))
        yield drill
    finally:
        primary.stop()
        for leftover in base.glob("restore*"):
            PgCluster(base, leftover.name, 0).stop()
        shutil.rmtree(base, ignore_errors=True)


def test_stanza_maps_completely_onto_the_program_created_buckets(pg_drill: PgDrill) -> None:
    estate, mapped = pg_drill.estate, pg_drill.mapped
    copies = estate.runbook["datasets"][PG_DATASET]["copies"]
    assert [c["destination"] for c in copies] == list(PG_DESTINATIONS)
    s3 = estate.s3()
    for n, copy in enumerate(copies, start=1):
        assert copy["pgbackrest_repository"]["values"] == {k: v for k, v in mapped.options.items()
                                                           if k.startswith(f"repo{n}-")}
        assert mapped.options[f"repo{n}-s3-bucket"] == copy["bucket"]
        assert mapped.options[f"repo{n}-path"] == "/" + copy["repository"]
        assert mapped.options[f"repo{n}-storage-verify-tls"] == "y"
        assert mapped.options[f"repo{n}-cipher-type"] == "aes-256-cbc"
        assert mapped.options[f"repo{n}-retention-full"] == str(copy["retention"]["full"])
        lock = s3.get_object_lock_configuration(Bucket=copy["bucket"])["ObjectLockConfiguration"]["Rule"]
        retention = lock["DefaultRetention"]
        assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", copy["lock_days"]) and copy["lock_days"]
    stanza = pg_drill.info()
    # Base backups go to the repository their ScheduledBackup selects (here repo1); WAL goes to both.
    assert {r["key"]: r["status"]["message"] for r in stanza["repo"]} == {1: "ok", 2: "no valid backups"}
    assert {r["key"]: r["cipher"] for r in stanza["repo"]} == {1: "aes-256-cbc", 2: "aes-256-cbc"}
    archived = {a["database"]["repo-key"] for a in stanza["archive"] if a.get("max")}
    assert archived == {1, 2}, "WAL must reach every repository of the Stanza"
    counts = pg_drill.put_headers
    RECORDS.findings.append(
        f"{tool_version(['pgbackrest', 'version'])}: {counts['content-md5']}/{counts['requests']} PUTs carried "
        "Content-MD5; archive-push and backups into both locked TLS buckets were accepted (verifyTLS on, CA "
        "given as repo<N>-storage-ca-file)")
    assert counts["requests"] and counts["content-md5"] == counts["requests"], counts


def test_point_in_time_restore_to_the_marked_transaction(pg_drill: PgDrill) -> None:
    types = [b["type"] for b in pg_drill.info()["backup"]]
    assert types == ["full", "diff", "incr"]
    restore = pg_drill.base / "restore"
    restore.mkdir(mode=0o700)
    give_to_pg_user(restore)
    started = time.monotonic()
    pg_drill.pgbackrest("restore", f"--pg1-path={restore}", "--type=xid", f"--target={pg_drill.mark_xid}",
                        "--target-action=promote")
    files, size = tree_size(restore)
    cluster = PgCluster(pg_drill.base, "restore", free_port())
    cluster.configure({"archive_mode": "off"})  # a restored server must not archive into the origin's stanza
    cluster.start()
    cluster.wait_until("select pg_is_in_recovery()", "f")
    seconds = time.monotonic() - started
    try:
        assert cluster.sql(CHECKSUM) == pg_drill.at_mark
        assert cluster.sql("select payload from drill where id = 0") == "the marked transaction"
        assert cluster.sql("select count(*) from drill where id > 90000") == "0"
    finally:
        cluster.stop()
    RECORDS.drills.append(DrillRecord("pgBackRest: PITR to marked xid, full+diff+incr", "pgBackRest 2.45 / S3 TLS",
                                      seconds, size, files, f"rows/md5 equal: {pg_drill.at_mark.split(':')[0]} rows"))


def test_expire_by_retention_works_on_the_locked_bucket(pg_drill: PgDrill) -> None:
    estate = pg_drill.estate
    options = pg_drill.mapped.options
    bucket, prefix = options["repo1-s3-bucket"], options["repo1-path"].lstrip("/")
    s3 = estate.s3()

    def current() -> set[str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        return {o["Key"] for page in pages for o in page.get("Contents", [])}

    pg_drill.pgbackrest("backup", "--repo=1", "--type=full")
    before = current()
    # The planned retention keeps a year of weekly fulls; one is the smallest count that makes expire act now.
    pg_drill.pgbackrest("expire", "--repo=1", "--repo1-retention-full=1")
    released = sorted(before - current())
    backups = [b for b in pg_drill.info()["backup"] if b["database"]["repo-key"] == 1]
    assert [b["type"] for b in backups] == ["full"]
    assert released and any("/backup/" in k for k in released)
    markers, survivors = versions(s3, bucket, prefix)
    assert set(released) <= markers and set(released) <= set(survivors)
    victim = survivors[released[0]]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    pg_drill.pgbackrest("verify", "--repo=1")
    RECORDS.findings.append(
        f"pgBackRest expire (retention-full=1) on the locked bucket: {len(released)} objects released as delete "
        "markers over locked noncurrent versions; versioned delete refused (AccessDenied); verify passed")
