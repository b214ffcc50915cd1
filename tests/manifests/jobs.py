"""Shared helpers of the check and drill tests: the rendered jobs of the test estate and a runner for their scripts
with stand-in tools on PATH (not a test module: tests import from here, never from each other)."""


from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from manifests import checks, drills, workloads
from plan.model import CopyPlan
from tests.manifests import estate

PINNED = {workloads.RESTIC_IMAGE, workloads.KOPIA_IMAGE, workloads.PGBACKREST_IMAGE, workloads.SQLITE_IMAGE,
          workloads.PG_DUMP_IMAGE, workloads.RCLONE_IMAGE}
SENSITIVE = ("PASSWORD", "SECRET", "CIPHER_PASS", "S3_KEY")


def job_name(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def job_pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def job_container(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job_pod(job)["containers"]
    return container


def job_env(job: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in job_container(job)["env"]}


def job_script(job: dict[str, Any]) -> str:
    return job_container(job)["command"][2]


def rendered_checks(name: str) -> list[dict[str, Any]]:
    ds, dp = estate.dataset(name)
    return checks.checks(ds, estate.PINGS)


def rendered_drills(name: str) -> list[dict[str, Any]]:
    ds, dp = estate.dataset(name)
    drill = drills.drill(ds, estate.PINGS, nas=estate.inventory().truenas)
    return list(drill.objects) if drill else []


def nas_drill(name: str = "photos", healthchecks: bool = estate.PINGS) -> drills.Drill:
    ds, dp = estate.dataset(name)
    drill = drills.drill(ds, healthchecks)
    assert drill is not None
    return drill


def pvc_copies() -> list[tuple[Any, Any, CopyPlan]]:
    return [(ds, dp, copy) for ds, dp in estate.pairs() if ds.source.kind == "pvc" and dp.verify_every_days
            for copy in dp.copies]


# --- scripts, run with stand-in tools -------------------------------------------------------------------------------


def run_job(job: dict[str, Any], tmp_path: Path, tools: dict[str, str], env: dict[str, str] | None = None,
         paths: dict[str, Path] | None = None, cwd: Path | None = None) -> tuple[int, list[str], str]:
    """Run a job's script with fake tools on PATH; returns (exit status, Healthchecks pings, stderr)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    hc_log = tmp_path / "hc.log"
    hc_log.unlink(missing_ok=True)
    tools = {"curl": f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {hc_log}\n', **tools}
    for tool, body in tools.items():
        (bin_dir / tool).write_text(body)
        (bin_dir / tool).chmod(0o755)
    script = job_script(job).replace("/tmp/", f"{tmp_path}/")
    for path, local in (paths or {}).items():
        script = script.replace(str(path), str(local))
    full_env = {**{k: v for k, v in job_env(job).items() if isinstance(v, str)}, "HC_URL": "http://hc/x",
                "PATH": f"{bin_dir}:{os.environ['PATH']}", **(env or {})}
    result = subprocess.run(["/bin/sh", "-c", script], env=full_env, capture_output=True, text=True, check=False,
                            cwd=cwd)
    pings = hc_log.read_text().splitlines() if hc_log.exists() else []
    return result.returncode, pings, result.stderr


def recorder(tmp_path: Path, tool: str, output: str = "", status: int = 0) -> str:
    log = tmp_path / f"{tool}.args"
    return f'#!/bin/sh\necho "$*" >> {log}\nprintf "%s\\n" "{output}"\nexit {status}\n'


# A stand-in for the sqlite3 CLI (`.backup`, `PRAGMA integrity_check`, queries) over Python's sqlite3 module.
FAKE_SQLITE3 = """\
import sqlite3, sys
target, command = sys.argv[1], sys.argv[2]
if command.startswith(".backup"):
    out = command.split("'")[1]
    source = sqlite3.connect(target, uri=True)
    with sqlite3.connect(out) as dest:
        source.backup(dest)
else:
    print(sqlite3.connect(target).execute(command).fetchone()[0])
"""
