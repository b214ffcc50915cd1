"""Helpers the drills share: generated data, tree digests, restic runs, header counts, object versions."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from manifests import volsync
from manifests.secrets import SecretRef, secret_manifest
from tests.drills.estate import DrillEstate
from tests.drills.front import Request

RESTIC_DATASET, RESTIC_DESTINATION = "vaultwarden", "local-s3"


def require_tool(tool: str) -> None:
    """Fail (not skip): a drill that silently does not run proves nothing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed; run `bash scripts/services.sh install`", pytrace=False)


def tool_version(command: list[str]) -> str:
    """`restic 0.14.0`, `pgBackRest 2.45`: the first two words of the version line."""
    first = subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
    return " ".join(first.split()[:2])


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> content hash (files), link target (symlinks) or `dir` (directories)."""
    digest = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            digest[rel] = "dir"
        else:
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return len(files), sum(p.stat().st_size for p in files)


def write_generation(root: Path, generation: int) -> None:
    """Deterministic app-like data: text that compresses, random blobs that do not, nested folders, an empty
    file, a non-ASCII name and a symlink; each generation edits, deletes and adds files."""
    rng = random.Random(1000 + generation)
    if generation == 0:
        for i in range(40):
            folder = root / f"dir{i % 4}" / f"sub{i % 3}"
            folder.mkdir(parents=True, exist_ok=True)
            if i % 3 == 0:
                text = "".join(f"line {n} of file {i}: {rng.random():.6f}\n" for n in range(rng.randint(50, 3000)))
                (folder / f"notes-{i}.txt").write_text(text)
            else:
                (folder / f"blob-{i}.bin").write_bytes(rng.randbytes(rng.randint(1, 200_000)))
        (root / "attachments").mkdir()
        for i in range(3):
            (root / "attachments" / f"big-{i}.bin").write_bytes(rng.randbytes(1_500_000))
        (root / "empty.db-journal").write_bytes(b"")
        (root / "ünïcode naïve.txt").write_text("non-ASCII names survive\n")
        (root / "latest").symlink_to("attachments/big-0.bin")
        return
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_size)
    for path in rng.sample(files, 8):
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2] + rng.randbytes(4096))
    for path in rng.sample([p for p in files if "attachments" not in p.parts], 4):
        path.unlink()
    (root / "attachments" / f"big-{generation - 1}.bin").unlink(missing_ok=True)
    added = root / f"gen{generation}"
    added.mkdir()
    for i in range(6):
        (added / f"new-{i}.bin").write_bytes(rng.randbytes(rng.randint(10_000, 400_000)))


def restic_run(env: Mapping[str, str], *args: str, cwd: Path | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["restic", *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=300,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"restic {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def header_counts(requests: list[Request], method: str = "PUT") -> dict[str, int]:
    """How many requests of a method carried each integrity header."""
    chosen = [r for r in requests if r.method == method]
    return {
        "requests": len(chosen),
        "content-md5": sum("content-md5" in r.headers for r in chosen),
        "x-amz-sdk-checksum-algorithm": sum("x-amz-sdk-checksum-algorithm" in r.headers for r in chosen),
        "x-amz-checksum-*": sum(any(h.startswith("x-amz-checksum-") for h in r.headers) for r in chosen),
    }


def versions(s3: Any, bucket: str, prefix: str) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """(keys whose latest version is a delete marker, key -> one noncurrent object version) under a prefix."""
    markers: set[str] = set()
    noncurrent: dict[str, dict[str, Any]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix + "/"):
        markers |= {m["Key"] for m in page.get("DeleteMarkers", []) if m["IsLatest"]}
        for version in page.get("Versions", []):
            if not version["IsLatest"]:
                noncurrent.setdefault(version["Key"], version)
    return markers, noncurrent


@dataclass
class ResticRepository:
    """The Tier 1 PVC's offsite repository after three backups of generated files."""

    env: dict[str, str]
    source: Path
    expected: dict[str, str]
    """Digest of the source at the last backup."""
    snapshots: int
    copy: dict[str, Any]
    put_headers: dict[str, int]
    workdir: Path


def builder_env(estate: DrillEstate, dataset: str, destination: str) -> dict[str, str]:
    """The repository Secret from the pure builder, with the values the engine generated filled in."""
    assert estate.inventory is not None and estate.plan is not None
    ds = estate.plan.unit(dataset)
    copy = next(c for c in ds.copies if c.destination == destination)
    values = {"repository_password": estate.outputs["secrets"][dataset][destination],
              **estate.credentials(destination, dataset)}

    def resolve(ref: SecretRef) -> str:
        return values[ref.name]

    return secret_manifest(volsync.repository_secret(ds, copy), resolve)["stringData"]
