"""The policy pack through `pulumi policy analyze` on generated deployments, against an empty pack on the same
deployment (the engine's own cost of loading and walking it), at several sizes to expose super-linear rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.engine import _PEAK
from bench.inventory_gen import BUDGET_USD_PER_MONTH, synthetic_inventory
from tests.engine import deployment
from tests.engine.project import ROOT

EMPTY_PACK = '''from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

PolicyPack(name="empty-pack", enforcement_level=EnforcementLevel.ADVISORY, policies=[
    ResourceValidationPolicy(name="resource-missing-nothing", description="Checks nothing.",
                             validate=lambda args, report_violation: None)])
'''


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, PULUMI_HOME=str(home), PULUMI_BACKEND_URL=f"file://{home}/state",
                PULUMI_CONFIG_PASSPHRASE="bench")


def _analyze(pack: Path, deployment_file: Path, home: Path, config: Path | None = None) -> dict:
    command = f'source "{ROOT}/scripts/env.sh" && exec pulumi policy analyze --file "$1" --policy-pack "$2" "${{@:3}}"'
    extra = ["--policy-pack-config", str(config)] if config else []
    result = subprocess.run([sys.executable, "-c", _PEAK, "bash", "-c", command, "analyze", str(deployment_file),
                             str(pack), *extra], env=_env(home), capture_output=True, text=True, timeout=3600)
    return json.loads(result.stdout)


def _deployment(datasets: int, path: Path) -> None:
    raw = synthetic_inventory(datasets)
    config = {f"homelab-backups:{k}": json.dumps(v) for k, v in raw.items()}
    deployment.write(path, deployment.from_program("bench", config=config))


def measure_policies(sizes: list[int], workdir: Path) -> dict:
    """Pack vs empty pack at each size (and how long exporting the deployment took)."""
    workdir.mkdir(parents=True, exist_ok=True)
    empty = workdir / "empty-pack"
    empty.mkdir(exist_ok=True)
    (empty / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (empty / "__main__.py").write_text(EMPTY_PACK)
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    config = workdir / "pack-config.json"  # a synthetic estate is larger than the default budget
    config.write_text(json.dumps({"cost-enforce-monthly-budget": {"budgetUsdPerMonth": BUDGET_USD_PER_MONTH}}))
    results: dict = {}
    for size in sizes:
        path = workdir / f"deployment-{size}.json"
        started = time.perf_counter()
        _deployment(size, path)
        export = time.perf_counter() - started
        pack = _analyze(ROOT / "policies", path, home, config)
        base = _analyze(empty, path, home)
        for measured in (pack, base):
            if measured["rc"] != 0:
                raise RuntimeError(f"pulumi policy analyze failed at {size} datasets:\n{measured['out']}")
        results[size] = {"pack": pack, "empty": base, "export_s": export}
        path.unlink()  # 5,000 datasets make a deployment of several hundred MB
    return results
