"""Real-engine measurements: the program's preview and no-change up against a bare program that
registers exactly the same resources (recorded from the program under mocks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bench.inventory_gen import synthetic_inventory
from inventory import load_inventory
from tests.components.harness import identity_env_for
from tests.engine.project import ROOT, EngineProject, free_port, s3_server

_PEAK = ("import resource, subprocess, sys, json, time;"
         "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
         "s = time.perf_counter() - t;"
         "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
         "print(json.dumps({'rc': r.returncode, 'seconds': s, 'out': r.stdout[-2000:] + r.stderr[-2000:],"
         "'peak_mib': u.ru_maxrss / 1024, 'cpu_s': u.ru_utime + u.ru_stime}))")
"""Runs a command; prints its wall time, the CPU time of all its processes (steadier than wall time on a shared
machine) and the largest RSS among them."""


def timed(project: EngineProject, *args: str) -> dict:
    """Wall time and largest process RSS of one `pulumi` command (engine, host, program, providers)."""
    command = f'source "{ROOT}/scripts/env.sh" && cd "{project.dir}" && exec pulumi "$@"'
    result = subprocess.run([sys.executable, "-c", _PEAK, "bash", "-c", command, "pulumi", *args],
                            env=project.env(), capture_output=True, text=True, timeout=3600)
    measured = json.loads(result.stdout)
    if measured["rc"] != 0:
        raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{measured['out']}")
    return measured


def _stack_file(datasets: int, endpoint: str, project_dir: Path) -> tuple[str, dict[str, str]]:
    """The stack names an inventory file: at 1,000 datasets the config is too large for one environment variable.

    Also returns the per-writer keys a user would supply for the destinations the program cannot create keys on."""
    raw = synthetic_inventory(datasets, s3_endpoint=endpoint)
    (project_dir / "inventory.bench.yaml").write_text(yaml.safe_dump(raw))
    stack = yaml.safe_dump({"config": {"homelab-backups:inventory_file": "inventory.bench.yaml"}})
    return stack, identity_env_for(load_inventory(raw))


def _record(datasets: int, endpoint: str, path: Path) -> None:
    env = dict(os.environ, HLB_BENCH_S3_ENDPOINT=endpoint, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "bench.measure", "record", str(datasets), str(path)], env=env, check=True,
                   capture_output=True, cwd=ROOT, timeout=3600)


def measure_engine(datasets: int, workdir: Path, with_up: bool) -> dict[str, dict]:
    """Preview (and optionally no-change up) of program and bare program at one inventory size.

    Each variant gets its own loopback S3 server: the provider never takes over another run's bucket.
    """
    results: dict[str, dict] = {}
    for variant in ("program", "bare"):
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        s3_server("start", port)
        try:
            project = EngineProject(workdir / f"{variant}-{datasets}", s3_port=port)
            stack, supplied_keys = _stack_file(datasets, endpoint, project.dir)
            (project.dir / "Pulumi.bench.yaml").write_text(stack)
            project.extra_env |= supplied_keys
            if variant == "bare":
                recording = workdir / f"recording-{datasets}.json"
                _record(datasets, endpoint, recording)
                shutil.copy(ROOT / "bench" / "bare_program" / "__main__.py", project.dir / "__main__.py")
                os.environ["HLB_BENCH_RECORDING"] = str(recording)
            project.run("stack", "init", "bench")
            results[f"preview/{variant}"] = timed(project, "preview", "--stack", "bench")
            if with_up:
                project.run("up", "--stack", "bench", "--yes", "--skip-preview", timeout=3600)
                results[f"up-no-change/{variant}"] = timed(project, "up", "--stack", "bench", "--yes",
                                                           "--skip-preview", "--expect-no-changes")
        finally:
            os.environ.pop("HLB_BENCH_RECORDING", None)
            s3_server("stop", port)
    return results


if __name__ == "__main__":
    measured = measure_engine(int(sys.argv[1]), Path(sys.argv[2]), with_up=len(sys.argv) > 3)
    print(json.dumps({k: {"seconds": round(v["seconds"], 2), "peak_mib": round(v["peak_mib"])}
                      for k, v in measured.items()}))
