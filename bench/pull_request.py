"""The pull-request pipeline: `pulumi preview` with the pack of an estate mixing every kind that runs here, against
a bare program registering the same resources (recorded from the program under mocks) previewed with an empty
pack. Both run against the same loopback stand-ins: the S3 server behind a TLS front and the TrueNAS simulator."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bench.engine import timed
from bench.inventory_gen import every_kind_inventory, nas_datasets
from bench.policy import EMPTY_PACK
from inventory import load_inventory
from tests.components.harness import identity_env_for
from tests.drills.front import S3Front
from tests.drills.tls import make_certificates
from tests.engine import all_kinds
from tests.engine.project import ROOT, EngineProject, free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

PING_KEY = "bench-ping-key"


def _record(inventory: Path, env: dict[str, str], path: Path) -> None:
    env = dict(os.environ, **env, HLB_BENCH_INVENTORY=str(inventory), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "bench.measure", "record", "0", str(path)], env=env,
                            capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"recording the every-kind estate failed:\n{result.stderr[-3000:]}")


def measure_pull_request(datasets: int, workdir: Path) -> dict[str, dict]:
    """Preview with the pack (program) and preview with an empty pack (bare program), same resources."""
    workdir.mkdir(parents=True, exist_ok=True)
    empty = workdir / "empty-pack"
    empty.mkdir(exist_ok=True)
    (empty / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (empty / "__main__.py").write_text(EMPTY_PACK)
    results: dict[str, dict] = {}
    certs = make_certificates(workdir / "s3-tls")
    (workdir / "nas-pki").mkdir(exist_ok=True)
    pki = make_pki(workdir / "nas-pki")
    backend = free_port()
    with contextlib.ExitStack() as stack:
        s3_server("start", backend)
        stack.callback(s3_server, "stop", backend)
        front = stack.enter_context(S3Front(backend, certs.cert, certs.key))
        raw = every_kind_inventory(datasets, front.endpoint, "127.0.0.1:0", str(pki["ca"]))
        zfs = {"tank": "FILESYSTEM", **{name: "FILESYSTEM" for name in nas_datasets(raw)}}
        nas = stack.enter_context(TrueNASSimulator(datasets=zfs, tls=server_context(pki)))
        raw["truenas"]["host"] = f"127.0.0.1:{nas.port}"
        env = {**all_kinds.ENV, "HLB_TRUENAS_API_KEY": nas.api_key, "AWS_CA_BUNDLE": str(certs.ca),
               "HLB_HEALTHCHECKS_PING_KEY": PING_KEY, **identity_env_for(load_inventory(raw))}
        inventory_json = workdir / "inventory.json"
        inventory_json.write_text(json.dumps(raw))
        for variant in ("program", "bare"):
            project = EngineProject(workdir / f"{variant}-{datasets}")
            (project.dir / "inventory.bench.yaml").write_text(yaml.safe_dump(raw))
            (project.dir / "Pulumi.bench.yaml").write_text(yaml.safe_dump(
                {"config": {"homelab-backups:inventory_file": "inventory.bench.yaml"}}))
            project.extra_env = dict(env)
            pack = ROOT / "policies"
            if variant == "bare":
                recording = workdir / f"recording-{datasets}.json"
                _record(inventory_json, env, recording)
                shutil.copy(ROOT / "bench" / "bare_program" / "__main__.py", project.dir / "__main__.py")
                project.extra_env["HLB_BENCH_RECORDING"] = str(recording)
                pack = empty
            project.run("stack", "init", "bench")
            results[variant] = timed(project, "preview", "--stack", "bench", "--policy-pack", str(pack))
    return results


if __name__ == "__main__":
    measured = measure_pull_request(int(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps({k: {"seconds": round(v["seconds"], 2), "cpu_s": round(v["cpu_s"], 2),
                          "peak_mib": round(v["peak_mib"])} for k, v in measured.items()}))
