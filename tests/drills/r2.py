"""The R2 lock drill's estate: a Tier 1 PVC and a Tier 1 PostgreSQL dataset copied to R2, planned by the program.

Everything the tools get comes from the pure plan and the manifest builders, exactly as the program renders it for
an R2 copy: the restic repository Secret (location, region `auto`, checksum settings, password) and the retention
VolSync turns into `restic forget` flags; the pgBackRest Stanza (bucket, region, path style, TLS verification,
repository path, cipher, retention). The only change is the endpoint: the R2 copy's
`https://<account>.r2.cloudflarestorage.com` becomes the loopback server in R2 mode (plain HTTP for restic, a TLS
front for pgBackRest, which speaks only HTTPS to S3).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory import Inventory, load_inventory
from manifests import pgbackrest as pg_manifests
from manifests import volsync
from manifests.secrets import SecretRef, secret_manifest
from plan import Plan, build_plan
from plan.build import protection_unit
from plan.model import CopyPlan
from plan.units import ProtectionUnit

ACCOUNT = "0123456789abcdef0123456789abcdef"
R2_DESTINATION = "r2"
PVC_DATASET = "vault-r2"
PG_DATASET = "db-r2"
KEY_ID, KEY_SECRET = "r2-drill-key", "r2-drill-secret"
PASSWORD = "r2-drill-repository-password"

LOCK_DAYS_BEFORE = 14
"""What the program gave a Tier 1 R2 bucket up to this drill: the tier's 14-day lock, below the 30-day window."""


def program_lock_rules(lock_days: int) -> list[dict[str, Any]]:
    """The `R2BucketLock` rules components/buckets.py declared for a locked R2 bucket before this drill: one Age
    rule on the whole bucket, so it covers every repository prefix (Pulumi's Python names)."""
    return [{"id": "retain-backups", "enabled": True, "prefix": "",
             "condition": {"type": "Age", "max_age_seconds": lock_days * 86400}}]


def drill_inventory() -> Inventory:
    """A Tier 1 estate whose datasets copy to R2 (and to a locked B2 bucket, which the drill does not touch)."""
    return load_inventory({
        "destinations": [
            {"name": "nas", "kind": "nfs", "server": "nas.lan", "path": "/mnt/backups"},
            {"name": "nas-s3", "kind": "s3-compatible", "endpoint": "https://nas.lan:9000", "flavour": "minio",
             "offsite": False},
            {"name": R2_DESTINATION, "kind": "r2", "account_id": ACCOUNT},
            {"name": "b2", "kind": "b2", "region": "us-west-004"},
        ],
        "datasets": [
            {"name": PVC_DATASET, "tier": 1, "size_gb": 1,
             "source": {"kind": "pvc", "namespace": "apps", "claim": "vault-data", "storage_class": "ceph-block",
                        "capacity": "5Gi"}},
            {"name": PG_DATASET, "tier": 1, "size_gb": 1,
             "source": {"kind": "postgres", "namespace": "database", "cluster": "db-r2"}},
        ],
    })


@dataclass
class R2Estate:
    inventory: Inventory
    plan: Plan

    def copy(self, dataset: str) -> CopyPlan:
        return next(c for c in self.plan.dataset(dataset).copies if c.destination == R2_DESTINATION)

    def dataset(self, name: str) -> Any:
        return next(d for d in self.inventory.datasets if d.name == name)

    def unit(self, name: str, *copies: CopyPlan) -> ProtectionUnit:
        """The dataset's protection unit, with `copies` as its only copies (the plan's unit without)."""
        if not copies:
            return self.plan.unit(name)
        return protection_unit(self.inventory, self.dataset(name),
                               dataclasses.replace(self.plan.dataset(name), copies=copies))


def r2_estate() -> R2Estate:
    inventory = drill_inventory()
    return R2Estate(inventory, build_plan(inventory))


def restic_env(estate: R2Estate, endpoint: str, bucket: str, home: Path) -> tuple[dict[str, str], list[str]]:
    """(environment, forget flags) of the PVC's R2 copy, pointed at `endpoint` and `bucket`."""
    copy = dataclasses.replace(estate.copy(PVC_DATASET), endpoint=endpoint, bucket=bucket)
    ds = estate.unit(PVC_DATASET, copy)
    values = {"repository_password": PASSWORD, "access_key_id": KEY_ID, "secret_access_key": KEY_SECRET}

    def resolve(ref: SecretRef) -> str:
        return values[ref.name]

    secret = secret_manifest(volsync.repository_secret(ds, copy), resolve)["stringData"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "RESTIC_CACHE_DIR": str(home / "cache"), **secret}
    source = volsync.replication_source(ds, copy, estate.inventory.kubernetes)
    flags = []
    for level, value in source["spec"]["restic"]["retain"].items():
        flags += [f"--keep-{level}", str(value)]
    return env, flags


def pg_stanza(estate: R2Estate, endpoint: str, bucket: str) -> dict[str, Any]:
    """The database's Stanza with its R2 copy as repository 1, pointed at `endpoint` and `bucket`."""
    copy = dataclasses.replace(estate.copy(PG_DATASET), endpoint=endpoint, bucket=bucket)
    return pg_manifests.stanza(estate.unit(PG_DATASET, copy))


def pg_resolve(secret: str, key: str) -> str:
    return {pg_manifests.KEY_ACCESS_KEY_ID: KEY_ID, pg_manifests.KEY_SECRET_ACCESS_KEY: KEY_SECRET,
            pg_manifests.KEY_CIPHER_PASS: PASSWORD}[key]


_SHAPES = ((re.compile(r"\b[0-9a-f]{64}\b"), "<id>"),
           (re.compile(r"\b[0-9A-F]{24}(-[0-9a-f]{40})?(\.\w+)?\b"), "<wal>"),
           (re.compile(r"\b\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?\b"), "<label>"))
"""Names that differ per run (restic ids, WAL segments, pgBackRest backup labels) -> a placeholder."""


def refused_summary(refused: list[tuple[str, str, str]]) -> str:
    """`DeleteObject locks/<id> x22`: which kinds of object the lock rule kept the tool from changing."""
    counts: Counter[str] = Counter()
    for operation, _, key in refused:
        shape = key.split("/", 3)[-1] if key.startswith(("volsync/", "pgbackrest/")) else key
        for pattern, placeholder in _SHAPES:
            shape = pattern.sub(placeholder, shape)
        # Inside a backup, name pgBackRest's own metadata files; data files collapse into one kind.
        shape = re.sub(r"/<label>/(?:.*/)?(?!backup\.)[^/]*$", "/<label>/<data file>", shape)
        shape = re.sub(r"/<label>/.*/(backup\.[^/]*)$", r"/<label>/\1", shape)
        counts[f"{operation} {shape}"] += 1
    parts = [f"{what} x{n}" if n > 1 else what for what, n in counts.most_common(3)]
    more = len(counts) - 3
    return ", ".join(parts) + (f" (+{more} kinds)" if more > 0 else "")


@dataclass(frozen=True)
class Step:
    """One tool command under one lock design, and what R2 mode did to it."""

    name: str
    exit_code: int
    denials: int
    """Mutations the lock rules refused during this step."""
    detail: str

    @property
    def outcome(self) -> str:
        if self.exit_code == 0:
            return "ok" if not self.denials else f"ok, {self.denials} refused"
        return f"FAILED (exit {self.exit_code}), {self.denials} refused"


@dataclass
class DrillRun:
    tool: str
    design: str
    steps: list[Step] = field(default_factory=list)

    def run(self, name: str, command: Callable[[], subprocess.CompletedProcess[str]],
            refused: Callable[[], list[tuple[str, str, str]]]) -> Step:
        before = len(refused())
        result = command()
        new = refused()[before:]
        text = (result.stderr or "") + (result.stdout or "")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        notable = [line for line in lines if "unable" in line or "rror" in line or "Fatal" in line]
        said = (notable or lines or [""])[0]
        if new:
            said = f"refused {refused_summary(new)}; {said}"
        step = Step(name, result.returncode, len(new), said[:200])
        self.steps.append(step)
        return step

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)
