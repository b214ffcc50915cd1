"""A TrueNAS cloud sync PUSH run, reproduced with real rclone from the task the program created on the NAS.

TrueNAS's middleware writes a temporary rclone config for each run (`RcloneConfig` in middlewared's cloud sync
plugin, and the S3 remote's `get_credentials_extra` / `get_task_extra`):

- `[remote]`: the cloud credential's attributes plus the task's attributes, with `type` from the provider (s3,
  b2); for S3 also `provider` (the credential's, else `Other`), `server_side_encryption` from the task's
  `encryption` attribute, the region rule below, and the credential's `skip_region` / `signatures_v2` and the
  task's `encryption` left out;
- with `encryption` on, `[encrypted]`: `type = crypt`, `remote = remote:<bucket>/<folder>` (folder right-stripped),
  `filename_encryption = standard` when the task's `filename_encryption` is on, else `off`, `password` = the task's
  `encryption_password` and, when set, `password2` = its `encryption_salt`, both obscured as `rclone obscure` does;
  the run then targets `encrypted:/` instead of `remote:<bucket>/<folder>`.

The command is `rclone --config <file> -v --stats 1s [--transfers N] [-L] [--bwlimit ...] [args] <transfer_mode> <path>
<remote>`.
Nothing here reads the program's code: only the task and credential rows the NAS API returns.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RCLONE_TYPES = {"S3": "s3", "B2": "b2"}
DROPPED_S3_KEYS = ("encryption", "skip_region", "signatures_v2")


def obscure(value: str) -> str:
    return subprocess.run(["rclone", "obscure", "-"], input=value, capture_output=True, text=True,
                          check=True).stdout.strip()


def _s3_region(credential: Mapping[str, Any], attributes: Mapping[str, Any]) -> dict[str, str]:
    """The S3 remote's region rule: the credential's unless the task names one; none when the region is skipped."""
    region = str(credential.get("region") or "").strip()
    if credential.get("skip_region"):
        return {"region": "other-v2-signature" if credential.get("signatures_v2") else ""}
    if not region:
        return {"region": attributes.get("region") or "us-east-1"}
    return {} if str(attributes.get("region") or "").strip() else {"region": str(credential["region"])}


def rclone_config(task: Mapping[str, Any]) -> tuple[str, str]:
    """(config text, remote to push to) for a `cloudsync.query` row with its credential expanded (25.04 API)."""
    provider = dict(task["credentials"]["provider"])
    kind = provider.pop("type")
    attributes = dict(task["attributes"])
    remote: dict[str, Any] = {**provider, "type": RCLONE_TYPES[kind]}
    if kind == "S3":
        remote["provider"] = provider.get("provider") or "Other"
        remote |= attributes
        remote["server_side_encryption"] = attributes.get("encryption") or ""
        remote |= _s3_region(provider, attributes)
        for key in DROPPED_S3_KEYS:
            remote.pop(key, None)
    else:
        remote |= attributes
    path = f"remote:{attributes['bucket']}/{attributes['folder'].rstrip()}"
    lines = []
    if task["encryption"]:
        lines += ["[encrypted]", "type = crypt", f"remote = {path}",
                  f"filename_encryption = {'standard' if task['filename_encryption'] else 'off'}",
                  f"password = {obscure(task['encryption_password'])}"]
        if task.get("encryption_salt"):
            lines.append(f"password2 = {obscure(task['encryption_salt'])}")
        path = "encrypted:/"
    lines += ["[remote]", *(f"{k} = {v}" for k, v in remote.items())]
    return "\n".join(lines) + "\n", path


def _bandwidth(limit: Mapping[str, Any]) -> str:
    """One `--bwlimit` timetable entry: `HH:MM,<bytes>b`, or `off` for no limit."""
    return f"{limit['time']},{str(limit['bandwidth']) + 'b' if limit['bandwidth'] else 'off'}"


def push(task: Mapping[str, Any], source: Path, workdir: Path,
         env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """One PUSH run of `task` with `source` standing in for the task's path on the NAS."""
    assert task["direction"] == "PUSH", task["direction"]
    text, target = rclone_config(task)
    config = workdir / f"cloudsync-{task['id']}.conf"
    config.write_text(text)
    config.chmod(0o600)
    args = ["rclone", "--config", str(config), "-v", "--stats", "1s"]
    if task.get("transfers"):
        args += ["--transfers", str(task["transfers"])]
    if task.get("follow_symlinks"):
        args.append("-L")
    if task.get("bwlimit"):
        args += ["--bwlimit", " ".join(_bandwidth(limit) for limit in task["bwlimit"])]
    args += shlex.split(task.get("args") or "")
    args += [task["transfer_mode"].lower(), str(source), target]
    result = subprocess.run(args, env=dict(env), capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise AssertionError(f"cloud sync push failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
