"""A throwaway copy of the project driven by the real engine built by scripts/toolchain.sh.

Each copy has its own file backend, PULUMI_HOME and loopback S3 port, so engine tests never touch the
checkout's state or the demo's server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
NOT_PROGRAM = {".git", ".venv", ".toolchain", ".pulumi-state", ".pulumi-home", ".run", "rendered", "tests", "bench",
               "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache", "docs"}
"""Everything else in the checkout is copied, so a new program package never needs listing here."""
PASSPHRASE = "engine-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EngineProject:
    """Run `pulumi` commands against a copy of the program with isolated state."""

    def __init__(self, workdir: Path, s3_port: int | None = None) -> None:
        self.dir = workdir / "project"
        self.home = workdir / "home"
        self.state = workdir / "state"
        self.s3_port = s3_port
        self.extra_env: dict[str, str] = {}
        shutil.copytree(ROOT, self.dir, ignore=lambda d, names: [n for n in names if n in NOT_PROGRAM])
        (self.dir / ".venv").symlink_to(ROOT / ".venv")  # Pulumi.yaml's virtualenv, used by dynamic providers
        self.state.mkdir(parents=True)
        for stack in self.dir.glob("Pulumi.*.yaml"):
            # The committed salt belongs to the demo passphrase; this copy gets its own secrets manager.
            lines = [ln for ln in stack.read_text().splitlines(keepends=True) if not ln.startswith("encryptionsalt:")]
            stack.write_text("".join(lines))
        if s3_port is not None:
            stack = self.dir / "Pulumi.local.yaml"
            stack.write_text(stack.read_text().replace("http://127.0.0.1:9400", f"http://127.0.0.1:{s3_port}"))

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env |= {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "HLB_LOCAL_S3_ACCESS_KEY_ID": "engine-test-key",
            "HLB_LOCAL_S3_SECRET_ACCESS_KEY": "engine-test-secret",
        }
        return env | self.identity_env() | self.extra_env

    def identity_env(self, stack: str = "local") -> dict[str, str]:
        """Stand-in tool keys for the writers of destinations whose keys the user supplies (the loopback server
        accepts any key), read from the copy's current stack file; {} when its inventory is invalid."""
        from inventory import InventoryError, load_inventory
        from tests.components.harness import identity_env_for

        raw = yaml.safe_load((self.dir / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}
        sections = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("homelab-backups:")}
        if "budget_usd_per_month" in sections:
            sections["budget_usd_per_month"] = float(sections["budget_usd_per_month"])
        try:
            return identity_env_for(load_inventory(sections))
        except InventoryError:
            return {}

    def run(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        """`pulumi <args>` in the copy, through scripts/env.sh (toolchain PATH, plugins, interpreter shim)."""
        command = f'source "{ROOT}/scripts/env.sh" && cd "{self.dir}" && pulumi "$@"'
        result = subprocess.run(["bash", "-c", command, "pulumi", *args], env=self.env(), capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            output = f"{result.stdout}\n{result.stderr}"
            raise AssertionError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{output}")
        return result

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--stack", stack, "--json"] + (["--show-secrets"] if show_secrets else [])
        return json.loads(self.run(*args).stdout)


def s3_server(action: str, port: int) -> None:
    """Start or stop the project's loopback S3 server on a given port."""
    subprocess.run(["bash", str(ROOT / "scripts" / "s3-server.sh"), action], check=True, timeout=120,
                   env=dict(os.environ, HLB_S3_PORT=str(port)), capture_output=True)
