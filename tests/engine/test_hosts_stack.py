"""Host datasets through the real engine on a user's path, then the host's own files run with the real restic.

The estate: a Tier 1 NixOS host copying to a local and an offsite S3-compatible store, and a Tier 2 Debian host
(plain systemd) with pre and post hooks, both stores on the loopback S3 server; Healthchecks is a fake on loopback.
After the pull request's preview with the pack and `up`, the files come from `pulumi stack output hosts` and the
secret files from `pulumi stack output --show-secrets host_secret_files`, exactly what a user places on the hosts;
the Debian host's backup service then runs from its unit file (tests/drills/host_units.py) into the bucket the
engine created, and a restore with the same environment matches the files by sha256.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.drills.healthchecks import FakeHealthchecks
from tests.drills.helpers import require_tool, tree_digest, write_generation
from tests.drills.host_units import SYSTEMD_PATH, describe, parse_unit, run_service
from tests.engine.project import EngineProject, UserPath, free_port, s3_server

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK = "hostsdemo"
PING_KEY = "hosts-ping-key"
ENV = {"HLB_LAN_S3_ACCESS_KEY_ID": "engine-test-key", "HLB_LAN_S3_SECRET_ACCESS_KEY": "engine-test-secret",
       "HLB_FAR_S3_ACCESS_KEY_ID": "engine-test-key", "HLB_FAR_S3_SECRET_ACCESS_KEY": "engine-test-secret",
       "HLB_HEALTHCHECKS_PING_KEY": PING_KEY}


def estate(root: Path, secrets: Path, endpoint: str, ping_base: str) -> dict:
    return {
        "destinations": [
            {"name": "lan-s3", "kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto", "offsite": False,
             "price_usd_per_tb_month": 0},
            {"name": "far-s3", "kind": "s3-compatible", "endpoint": endpoint, "flavour": "moto", "offsite": True,
             "price_usd_per_tb_month": 6},
        ],
        "datasets": [
            {"name": "atlas", "tier": 1, "size_gb": 1, "destinations": ["lan-s3", "far-s3"],
             "source": {"kind": "host", "hostname": "atlas", "os": "nixos", "paths": [str(root / "atlas")],
                        "secrets": {"tool": "agenix", "directory": str(secrets / "agenix")}}},
            {"name": "pebble", "tier": 2, "size_gb": 1, "destinations": ["lan-s3"],
             "source": {"kind": "host", "hostname": "pebble", "os": "systemd", "paths": [str(root / "pebble")],
                        "exclude": ["*.tmp"], "hooks": {"pre": [f"/usr/bin/touch {root}/pebble/pre-hook-ran"],
                                                        "post": [f"/usr/bin/touch {root}/post-hook-ran"]},
                        "secrets": {"tool": "files", "directory": str(secrets / "restic")}}},
        ],
        "monitoring": {"healthchecks": {"ping_base": ping_base}},
        "kubernetes": {"mode": "render", "render_dir": "rendered", "secret_delivery": "external-secret"},
        "budget_usd_per_month": "10",
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("hosts-engine")
    # The pack refuses secret files under /tmp (host-disallow-exposed-secret-files), where pytest's folders live:
    # the secret files go to a private folder in /dev/shm, a tmpfs like the /run agenix and sops-nix decrypt into.
    secrets = Path(tempfile.mkdtemp(prefix="hlb-hosts-", dir="/dev/shm"))
    port = free_port()
    s3_server("start", port)
    try:
        with FakeHealthchecks() as healthchecks:
            project = EngineProject(root / "work")
            endpoint = healthchecks.ping_base.removesuffix("drill-ping-key/")
            project.write_stack(STACK, estate(root, secrets, f"http://127.0.0.1:{port}", endpoint))
            project.extra_env = dict(ENV)
            yield root, UserPath(project, STACK).begin(), healthchecks
    finally:
        s3_server("stop", port)
        shutil.rmtree(secrets, ignore_errors=True)


def test_empty_stack_preview_with_the_pack_passes(world):
    _, path, _ = world
    planned = path.planned()
    assert set(planned) == {"create"}, planned
    types = path.planned_types()
    assert types["homelab-backups:hosts:HostBackup"] == 2
    assert types["pulumi-python:dynamic/secrets:GeneratedSecret"] == 3, "one repository password per host copy"
    assert path.policy_findings() == set()


def test_outputs_hold_the_files_plainly_and_the_secret_files_only_as_secrets(world):
    _, path, _ = world
    plain = path.project.outputs(STACK)
    assert sorted(plain["hosts"]) == ["atlas", "pebble"]
    assert "nixos/atlas.nix" in plain["hosts"]["atlas"]
    assert "systemd/restic-backups-pebble-lan-s3.service" in plain["hosts"]["pebble"]
    assert plain["host_secret_files"] == "[secret]"
    shown = path.project.outputs(STACK, show_secrets=True)
    texts = "".join(t for files in plain["hosts"].values() for t in files.values())
    for files in shown["host_secret_files"].values():
        for content in files.values():
            for line in content.splitlines():
                assert line.split("=", 1)[-1] not in texts
    assert PING_KEY not in texts


def test_the_debian_host_backs_up_and_restores_with_its_rendered_unit(world):
    require_tool("restic")
    root, path, healthchecks = world
    shown = path.project.outputs(STACK, show_secrets=True)
    for files in shown["host_secret_files"].values():
        for target, content in files.items():
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(content)
    units = root / "units"
    units.mkdir()
    for relative, text in shown["hosts"]["pebble"].items():
        (units / Path(relative).name).write_text(text)
    data = root / "pebble"
    data.mkdir()
    write_generation(data, 0)
    (data / "scratch.tmp").write_text("excluded\n")
    (root / "home").mkdir()
    unit = parse_unit((units / "restic-backups-pebble-lan-s3.service").read_text(), str(root / "cache"))
    run = run_service(unit, root / "home")
    assert run.result == "success", describe(run)
    assert (root / "post-hook-ran").exists()
    assert f"/ping/{PING_KEY}/backup-pebble-lan-s3" in [p.path for p in healthchecks.pings]
    target = root / "restored"
    env = {"PATH": SYSTEMD_PATH, "HOME": str(root / "home"), **unit.environment}
    restored = subprocess.run(["/usr/bin/restic", "restore", "latest", "--host", "pebble", "--target", str(target)],
                              env=env, capture_output=True, text=True, timeout=300, check=False)
    assert restored.returncode == 0, restored.stderr
    got = tree_digest(target / str(data).lstrip("/"))
    assert "pre-hook-ran" in got and "scratch.tmp" not in got
    del got["pre-hook-ran"]
    assert got == {k: v for k, v in tree_digest(data).items() if k not in ("pre-hook-ran", "scratch.tmp")}


def test_preview_and_up_after_up_report_no_changes(world):
    _, path, _ = world
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_the_pack_refuses_secret_files_in_a_shared_folder(world):
    root, path, _ = world
    config = estate(root, root / "shared", "http://127.0.0.1:9", "http://127.0.0.1:9/ping/")
    path.project.write_stack(f"{STACK}-tmp", config)
    walk = UserPath(path.project, f"{STACK}-tmp")
    path.project.run("stack", "init", f"{STACK}-tmp")
    result = walk.preview_with_pack("preview-tmp")
    assert result.returncode != 0
    assert walk.policy_findings("preview-tmp") == {("mandatory", "host-disallow-exposed-secret-files", "atlas"),
                                                    ("mandatory", "host-disallow-exposed-secret-files", "pebble")}
