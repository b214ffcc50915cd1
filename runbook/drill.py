"""A restore drill anyone can run: the newest restic snapshot of one copy into a scratch directory.

Read-only on the repository: every restic call runs with `--no-lock` (no lock file is written) and only
lists, checks and restores; nothing is forgotten or pruned. The repository settings are the ones the backup
uses (`repository_secret.values` in the runbook contract), the password comes from the escrowed `secrets`
output, and the bucket credential from the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.outputs import OutputsError, secret_at
from stack.naming import env_prefix

DEFAULT_SUBSET = "10%"
"""Share of pack files whose content `restic check` reads back (all metadata is always checked)."""


class DrillError(RuntimeError):
    """The drill did not pass; the message says which step and why."""


class DrillUsageError(DrillError):
    """The drill cannot start: no such dataset or copy, or a missing credential."""


@dataclass(frozen=True)
class DrillReport:
    dataset: str
    destination: str
    snapshot: str
    snapshot_time: str
    files: int
    bytes: int
    restore_seconds: float
    target: Path

    def summary(self) -> str:
        return (f"restore drill passed: {self.dataset} from {self.destination}, snapshot {self.snapshot} "
                f"({self.snapshot_time}), {self.files} files, {self.bytes} bytes in {self.restore_seconds:.1f} s")


def choose_copy(runbook: Mapping[str, Any], dataset: str, destination: str | None) -> dict[str, Any]:
    """The named copy, or the first restic copy in object storage (reachable without mounting the NAS)."""
    if dataset not in runbook["datasets"]:
        raise DrillUsageError(f"no dataset {dataset!r} in the outputs; known: {sorted(runbook['datasets'])}")
    services = [c["host_service"] for c in runbook["datasets"][dataset]["copies"] if "host_service" in c]
    if services:
        raise DrillUsageError(f"{dataset} is a host dataset: drill it on the host with its runbook's restore steps "
                              f"(its backups run from {services[0]}; a Tier 1 host also runs the rendered "
                              "restic-drill-* unit)")
    guest = runbook["datasets"][dataset].get("proxmox")
    if guest is not None:
        where = (f"its scheduled drill is CronJob {guest['drill']['cronjob']}" if "drill" in guest
                 else "no drill is scheduled (add proxmox.drill)")
        raise DrillUsageError(f"{dataset} is a Proxmox guest group: PVE restores its vzdump archives; {where}, and "
                              "its runbook's restore steps restore one by hand")
    copies = [c for c in runbook["datasets"][dataset]["copies"] if c["tool"] == "restic"]
    if not copies:
        raise DrillUsageError(f"{dataset} has no restic copy; this drill restores restic repositories only")
    if destination is not None:
        for copy in copies:
            if copy["destination"] == destination:
                return copy
        raise DrillUsageError(f"{dataset} has no restic copy at {destination!r}; "
                         f"choose one of {[c['destination'] for c in copies]}")
    remote = [c for c in copies if c["kind"] != "nfs"]
    return (remote or copies)[0]


def restic_env(copy: Mapping[str, Any], outputs: Mapping[str, Any], environ: Mapping[str, str],
               nfs_root: Path | None = None) -> dict[str, str]:
    """The repository Secret of the copy, with its secret values filled in."""
    secret = copy["repository_secret"]
    env = dict(secret["values"])
    if copy["kind"] == "nfs":
        if nfs_root is None:
            raise DrillUsageError(f"{copy['destination']} is an NFS copy: mount {copy['endpoint']} and pass --nfs-root")
        env["RESTIC_REPOSITORY"] = str(nfs_root / copy["bucket"] / copy["repository"])
    prefix = env_prefix(copy["destination"])
    for key, ref in secret["from_secrets"].items():
        if ref == "repository_password":
            try:
                password = secret_at(dict(outputs), copy["escrow"]["path"])
            except OutputsError as exc:
                raise DrillUsageError(str(exc)) from None
            if not isinstance(password, str):
                raise DrillUsageError(f"{copy['escrow']['path']} is not a repository password")
            env[key] = password
            continue
        value = environ.get(prefix + ref.upper()) or environ.get(key)
        if not value:
            raise DrillUsageError(f"no {ref} for {copy['destination']}: export {prefix + ref.upper()} (or {key}) "
                             "with a key that can read the bucket")
        env[key] = value
    return env


def _restic(restic: str, env: Mapping[str, str], *args: str) -> str:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    # No lock file in the repository, and no local cache: every byte comes from the repository itself.
    result = subprocess.run([restic, "--no-lock", "--no-cache", *args], env={**base, **env}, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise DrillError(f"restic {args[0]} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result.stdout


def ping(url: str, body: str, timeout: float = 10.0, name: str = "") -> str | None:
    """POST to a Healthchecks ping URL; returns the problem instead of raising (a ping never fails a drill).

    The problem names the check (`name`, its slug), never the URL: the URL carries the project ping key.
    """
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) if isinstance(exc, urllib.error.URLError) else None
        what = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else type(reason or exc).__name__
        return f"Healthchecks ping {name or 'of the drill'} failed: {what}"
    return None


def _drill_ping_url(outputs: Mapping[str, Any], copy: Mapping[str, Any],
                    log: Callable[[str], None]) -> tuple[str | None, str]:
    """The drill check's ping URL (the escrowed ping base plus its slug) and its slug; None without Healthchecks.

    The contract lists a drill slug only on the copy the scheduled drill restores; a drill of another copy, run by
    hand, reports to that copy's own `<backup slug>-drill` check, which the first such run creates."""
    check = copy.get("healthcheck", {})
    slug = check.get("drill") or (f"{check['backup']}-drill" if check.get("backup") else "")
    if not slug:
        return None, ""
    try:
        base = secret_at(dict(outputs), check["ping_base"]["path"])
    except OutputsError as exc:
        log(f"Healthchecks ping of {slug} skipped: {exc}")
        return None, slug
    return f"{base}{slug}", slug


def _tree_size(root: Path) -> tuple[int, int]:
    files = total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            total += path.stat().st_size
    return files, total


def restore_latest(env: Mapping[str, str], target_root: Path, dataset: str, destination: str, subset: str,
                   restic: str = "restic") -> DrillReport:
    """List, check and restore the newest snapshot; raise DrillError at the first step that fails."""
    snapshots = json.loads(_restic(restic, env, "snapshots", "--json") or "[]")
    if not snapshots:
        raise DrillError(f"the repository of {dataset} at {destination} holds no snapshot")
    latest = max(snapshots, key=lambda s: s["time"])
    _restic(restic, env, "check", f"--read-data-subset={subset}")
    target = target_root / f"{dataset}-{latest['short_id']}"
    if target.exists() and any(target.iterdir()):
        raise DrillError(f"{target} is not empty; old files would hide a partial restore; remove it first")
    started = time.monotonic()
    _restic(restic, env, "restore", latest["id"], "--target", str(target), "--verify")
    seconds = time.monotonic() - started
    files, size = _tree_size(target) if target.exists() else (0, 0)
    if files == 0:
        raise DrillError(f"snapshot {latest['short_id']} restored no files into {target}")
    return DrillReport(dataset, destination, latest["short_id"], latest["time"], files, size, seconds, target)


def run_drill(outputs: Mapping[str, Any], dataset: str, destination: str | None, scratch: Path | None,
              subset: str = DEFAULT_SUBSET, environ: Mapping[str, str] | None = None, nfs_root: Path | None = None,
              restic: str = "restic", log: Callable[[str], None] = print) -> DrillReport:
    """The whole drill with Healthchecks reporting (start, then success or fail with the reason)."""
    environ = os.environ if environ is None else environ
    runbook = outputs["runbook"]
    copy = choose_copy(runbook, dataset, destination)
    hc, slug = _drill_ping_url(outputs, copy, log)
    if hc:
        problem = ping(hc + "/start", f"restore drill of {dataset} from {copy['destination']} started", name=slug)
        if problem:
            log(problem)
    root = scratch if scratch is not None else Path(tempfile.mkdtemp(prefix="hlb-drill-"))
    try:
        env = restic_env(copy, outputs, environ, nfs_root)
        root.mkdir(parents=True, exist_ok=True)
        report = restore_latest(env, root, dataset, copy["destination"], subset, restic)
    except DrillError as exc:
        if hc:
            problem = ping(hc + "/fail", f"restore drill of {dataset} from {copy['destination']} failed: {exc}",
                           name=slug)
            if problem:
                log(problem)
        raise
    finally:
        if scratch is None:
            shutil.rmtree(root, ignore_errors=True)
    if hc:
        problem = ping(hc, report.summary(), name=slug)
        if problem:
            log(problem)
    return report
