"""Host drill: the exact command lines of the rendered systemd units, run with the real restic against the loopback S3
server, the way systemd would run them.

A Tier 1 host dataset with a local and an offsite copy (two S3-compatible destinations on the loopback server, the
offsite bucket versioned and object-locked as the plan declares it) is planned and rendered; its units are checked by
`systemd-analyze verify`; then each backup service is executed from its unit file: `Environment=` and
`EnvironmentFile=` (the filled secret files, written where the units read them), `%C` and `$$` as systemd expands
them, ExecStartPre (init when new, the pre hook dumping a "database"), ExecStart (backup, forget --prune with the
rendered retention, check with the rendered subset), ExecStopPost (the post hook, the Healthchecks ping with
`SERVICE_RESULT`). Three generations of files later, the drill service restores the newest snapshot into private
scratch space (PrivateTmp: /var/tmp mapped to a folder of the test), and a second restore with the same command line is
compared file by file (sha256) with the last backed-up tree.

Not emulated: systemd's sandboxing beyond PrivateTmp, timers (their calendar events are tested in tests/plan).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from inventory import load_inventory
from manifests.hosts import host_files, secret_files
from plan import build_plan
from plan.hosts import HostPlan, host_plan
from tests.drills.healthchecks import FakeHealthchecks
from tests.drills.helpers import require_tool, tree_digest, write_generation
from tests.drills.host_units import SYSTEMD_PATH, Unit, describe, parse_unit, run_service
from tests.engine.project import free_port, s3_server

pytestmark = [pytest.mark.slow]

KEY_ID, KEY_SECRET = "host-drill-key", "host-drill-secret"
"""moto accepts any key; the drill hands these to the units through their environment files."""
@dataclass
class HostDrill:
    root: Path
    host: HostPlan
    files: dict[str, str]
    units: Path
    data: Path
    s3_port: int
    healthchecks: FakeHealthchecks
    inventory: Any

    def unit(self, name: str) -> Unit:
        return parse_unit((self.units / name).read_text(), str(self.root / "cache"))

    def restic(self, unit: Unit, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": SYSTEMD_PATH, "HOME": str(self.root / "home"), **unit.environment}
        return subprocess.run(["/usr/bin/restic", *args], env=env, capture_output=True, text=True, timeout=300,
                              check=False)


def _inventory(root: Path, s3_port: int, ping_base: str) -> dict[str, Any]:
    endpoint = f"http://127.0.0.1:{s3_port}"
    return {
        "destinations": [
            {"name": "lan-s3", "kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto", "offsite": False},
            {"name": "site2", "kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto", "offsite": True},
        ],
        "monitoring": {"healthchecks": {"ping_base": ping_base}},
        "datasets": [{
            "name": "drillhost", "tier": 1, "size_gb": 0.01, "destinations": ["lan-s3", "site2"],
            "source": {"kind": "host", "hostname": "drillhost", "os": "systemd", "paths": [str(root / "data")],
                       "exclude": ["*.cache"], "one_file_system": True,
                       "hooks": {"pre": [str(root / "dump-db")], "post": [f"/bin/rm -f {root}/data/db-dump.sql"]},
                       "secrets": {"tool": "files", "directory": str(root / "secrets")},
                       "user": "root"},
        }],
    }


def _create_buckets(plan: Any, port: int) -> None:
    """The buckets as the program declares them (versioning and default governance lock where the plan says)."""
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id=KEY_ID, aws_secret_access_key=KEY_SECRET,
                      config=Config(s3={"addressing_style": "path"}))
    for bucket in plan.buckets:
        s3.create_bucket(Bucket=bucket.name, ObjectLockEnabledForBucket=bucket.lock_days > 0)
        if bucket.versioning:
            s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
        if bucket.lock_days:
            s3.put_object_lock_configuration(Bucket=bucket.name, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": bucket.lock_days}}})


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostDrill]:
    require_tool("restic")
    require_tool("curl")
    root = tmp_path_factory.mktemp("host-drill")
    (root / "data").mkdir()
    (root / "home").mkdir()
    dump = root / "dump-db"
    dump.write_text(f"#!/bin/sh\nset -e\necho \"-- dump at $(date +%s%N)\" > {root}/data/db-dump.sql\n")
    dump.chmod(0o755)
    port = free_port()
    s3_server("start", port)
    try:
        with FakeHealthchecks() as healthchecks:
            base = healthchecks.ping_base
            endpoint = base.removesuffix("drill-ping-key/")
            inventory = load_inventory(_inventory(root, port, endpoint))
            plan = build_plan(inventory)
            (unit,) = plan.units
            host = host_plan(unit, pings=True)
            files = host_files(host)
            units = root / "units"
            for relative, text in files.items():
                (units / relative).parent.mkdir(parents=True, exist_ok=True)
                (units / relative).write_text(text)
            creds = {c.destination: {"access_key_id": KEY_ID, "secret_access_key": KEY_SECRET} for c in host.copies}
            passwords = {c.destination: f"drill-password-{c.destination}" for c in host.copies}
            for path, text in secret_files(host, passwords, creds, base).items():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                Path(path).write_text(text)
                Path(path).chmod(0o400)
            _create_buckets(plan, port)
            yield HostDrill(root, host, files, units / "systemd", root / "data", port, healthchecks, inventory)
    finally:
        s3_server("stop", port)


def test_the_rendered_units_pass_systemd_analyze_verify(drill: HostDrill) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing; run `bash scripts/services.sh install`", pytrace=False)
    units = sorted(str(p) for p in drill.units.iterdir())
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_three_generations_backed_up_pruned_checked_and_pinged(drill: HostDrill) -> None:
    digests = []
    for generation in range(3):
        write_generation(drill.data, generation)
        (drill.data / f"skip-{generation}.cache").write_text("excluded by the rendered pattern\n")
        for copy in drill.host.copies:
            run = run_service(drill.unit(copy.service), drill.root / "home")
            assert run.result == "success", describe(run)
        expected = tree_digest(drill.data)
        digests.append(expected)
    # The post hook removed the dump after each backup; it must be in the snapshots, made by the pre hook.
    assert not (drill.data / "db-dump.sql").exists()
    for copy in drill.host.copies:
        unit = drill.unit(copy.service)
        commands = [" ".join(c) for c in unit.start]
        assert commands[1] == "/usr/bin/restic forget --prune " + " ".join(copy.prune_opts)
        assert commands[2] == "/usr/bin/restic check " + " ".join(copy.check_opts)
        snapshots = drill.restic(unit, "snapshots", "--json")
        assert snapshots.returncode == 0, snapshots.stderr
        # Three backups within a day: keep-hourly/keep-daily leave the newest of each hour/day, so prune ran with
        # the tier's options (without them all three would stay).
        kept = re.findall(r'"hostname":"([^"]+)"', snapshots.stdout)
        assert kept and set(kept) == {"drillhost"} and len(kept) < 3, snapshots.stdout
    pings = [p.path for p in drill.healthchecks.pings]
    for copy in drill.host.copies:
        assert pings.count(f"/ping/drill-ping-key/{copy.slug}") == 3, pings


def test_the_drill_unit_restores_the_newest_snapshot_and_checksums_match(drill: HostDrill) -> None:
    assert drill.host.drill is not None
    scratch = drill.root / "private-var-tmp"
    scratch.mkdir(exist_ok=True)
    unit = drill.unit(drill.host.drill.service)
    run = run_service(unit, drill.root / "home", private_tmp=scratch)
    assert run.result == "success", describe(run)
    assert not any(scratch.iterdir()), "the drill removes its scratch copy"
    assert f"/ping/drill-ping-key/{drill.host.drill.slug}" in [p.path for p in drill.healthchecks.pings]
    restore = unit.start[0]
    assert restore[:6] == ["/usr/bin/restic", "restore", "latest", "--host", "drillhost", "--target"]
    run = run_service(Unit(unit.environment, [], [restore], []), drill.root / "home", private_tmp=scratch)
    assert run.result == "success", describe(run)
    restored = scratch / drill.host.drill.scratch.removeprefix("/var/tmp/") / str(drill.data).lstrip("/")
    got = tree_digest(restored)
    want = tree_digest(drill.data)
    assert "db-dump.sql" in got, "the pre hook's dump is in the snapshot"
    assert not any(name.endswith(".cache") for name in got), "the exclude pattern held"
    del got["db-dump.sql"]
    want = {k: v for k, v in want.items() if not k.endswith(".cache")}
    assert got == want


def test_a_failed_backup_pings_fail(drill: HostDrill) -> None:
    copy = drill.host.copies[0]
    unit = drill.unit(copy.service)
    broken = Unit({**unit.environment, "RESTIC_PASSWORD_FILE": str(drill.root / "missing")}, unit.pre, unit.start,
                  unit.stop_post)
    run = run_service(broken, drill.root / "home")
    assert run.result == "exit-code"
    assert drill.healthchecks.pings[-1].path == f"/ping/drill-ping-key/{copy.slug}/fail"
    assert os.path.exists(drill.data), "nothing was touched"
