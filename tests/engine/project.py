"""A throwaway copy of the project driven by the real engine built by scripts/toolchain.sh, and the path a user's
pipeline walks through it (`UserPath`), which every engine scenario follows.

Each copy has its own file backend, PULUMI_HOME and loopback S3 port, so engine tests never touch the
checkout's state or the demo's server.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
NOT_PROGRAM = {".git", ".venv", ".toolchain", ".pulumi-state", ".pulumi-home", ".run", "rendered", "tests", "bench",
               "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache", "docs"}
"""Everything else in the checkout is copied, so a new program package never needs listing here."""
PASSPHRASE = "engine-tests"
PACK = ROOT / "policies"
WIRE_CAPTURE = ROOT / "tests" / "engine" / "wire_capture"
"""A sitecustomize that records every dynamic-provider Check/Diff request (see its docstring)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
        self.capture: Path | None = None
        """When set, dynamic providers append the raw Check/Diff requests they receive to this file."""
        self.step_of: dict[int, str] = {}
        self._identity_env: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        """identity_env per content of the stack files (the inventories are only read again when a file changed)."""
        """First line of each step in the capture file (see `UserPath.pulumi`)."""
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
        if self.capture is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(WIRE_CAPTURE), env.get("PYTHONPATH")) if p)
            env["HLB_WIRE_CAPTURE"] = str(self.capture)
        return env | self.identity_env() | self.extra_env

    def identity_env(self) -> dict[str, str]:
        """Stand-in tool keys for the writers of destinations whose keys the user supplies (the loopback server
        accepts any key), for every stack file in the copy (a test may select any of them); a stack whose
        inventory is invalid adds none (the program says why)."""
        stacks = tuple((path.name, path.read_text()) for path in sorted(self.dir.glob("Pulumi.*.yaml")))
        if stacks not in self._identity_env:  # 90 ms of CPU per pulumi command when recomputed every time
            self._identity_env[stacks] = self._identity_env_of(stacks)
        return self._identity_env[stacks]

    @staticmethod
    def _identity_env_of(stacks: tuple[tuple[str, str], ...]) -> dict[str, str]:
        from inventory import InventoryError, load_inventory
        from tests.components.harness import identity_env_for

        env: dict[str, str] = {}
        for _, text in stacks:
            raw = (yaml.safe_load(text) or {}).get("config") or {}
            sections = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("homelab-backups:")}
            if "budget_usd_per_month" in sections:
                sections["budget_usd_per_month"] = float(sections["budget_usd_per_month"])
            try:
                env |= identity_env_for(load_inventory(sections))
            except InventoryError:
                continue
        return env

    def run(self, *args: str, check: bool = True, timeout: int = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`pulumi <args>` in the copy, through scripts/env.sh (toolchain PATH, plugins, interpreter shim). With
        HLB_ENGINE_LOG set to a file, each command's test, arguments and CPU (the CLI and what it waited for: the
        program, providers) are appended to it as a JSON line: where a module's engine time goes."""
        command = f'source "{ROOT}/scripts/env.sh" && cd "{self.dir}" && pulumi "$@"'
        cpu = _children_cpu()
        result = subprocess.run(["bash", "-c", command, "pulumi", *args], env=self.env() | (env or {}),
                                capture_output=True, text=True, timeout=timeout)
        if log := os.environ.get("HLB_ENGINE_LOG"):
            with open(log, "a", encoding="utf-8") as out:
                out.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "args": list(args),
                                      "cpu": round(_children_cpu() - cpu, 2)}) + "\n")
        if check and result.returncode != 0:
            output = f"{result.stdout}\n{result.stderr}"
            raise AssertionError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{output}")
        return result

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--stack", stack, "--json"] + (["--show-secrets"] if show_secrets else [])
        return json.loads(self.run(*args).stdout)

    def resources(self, stack: str) -> list[dict[str, Any]]:
        """The stack's resources as its state holds them (`pulumi stack export`)."""
        exported = json.loads(self.run("stack", "export", "--stack", stack).stdout)
        return exported["deployment"].get("resources") or []

    def write_stack(self, stack: str, config: dict[str, Any]) -> None:
        """Pulumi.<stack>.yaml with `config` (keys without the project prefix get it)."""
        import yaml

        keys = {(k if ":" in k else f"homelab-backups:{k}"): v for k, v in config.items()}
        (self.dir / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": keys}, sort_keys=False))


@dataclass
class UserPath:
    """What a user's pipeline runs on a new stack, in order; each step keeps its process result for the tests.

    1. `pulumi preview --policy-pack policies` of the empty stack (the pull request that adds the estate);
    2. `pulumi up`;
    3. a preview and 4. an `up` that must both report no changes (`--expect-no-changes`);
    5. `pulumi destroy`, which the README says refuses protected resources (buckets, keys, generated secrets).
    With `capture` set, every Check/Diff request of steps 1-4 is recorded (see tests/engine/wire_capture).
    """

    project: EngineProject
    stack: str
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def pulumi(self, step: str, *args: str, check: bool = False,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        capture = self.project.capture
        if capture is not None:
            lines = len(capture.read_text(encoding="utf-8").splitlines()) if capture.exists() else 0
            self.project.step_of[lines] = step
        result = self.project.run(*args, "--stack", self.stack, check=check, timeout=600, env=env)
        self.steps[step] = result
        return result

    def begin(self) -> UserPath:
        """Steps 1 and 2: a new stack, the pull request's preview with the pack, then `up`."""
        self.project.run("stack", "init", self.stack)
        self.preview_with_pack("preview-empty")
        self.require("preview-empty")
        self.pulumi("up", "up", "--yes", "--skip-preview")
        self.require("up")
        return self

    def preview_with_pack(self, step: str) -> subprocess.CompletedProcess[str]:
        """A pull request's preview with the pack, streamed as engine events (steps, policy findings, summary)."""
        return self.pulumi(step, "preview", "--policy-pack", str(PACK), "--json",
                           env={"PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "1"})

    def events(self, step: str) -> list[dict[str, Any]]:
        """The engine events a `preview_with_pack` step printed."""
        return [json.loads(line) for line in self.steps[step].stdout.splitlines() if line.startswith("{")]

    def planned(self, step: str = "preview-empty") -> dict[str, int]:
        """What a preview planned, per operation: {"create": 42}."""
        (summary,) = [e["summaryEvent"] for e in self.events(step) if "summaryEvent" in e]
        return dict(summary.get("resourceChanges") or {})

    def planned_types(self, step: str = "preview-empty") -> dict[str, int]:
        """How many resources of each type a preview planned to create."""
        counts: dict[str, int] = {}
        for event in self.events(step):
            meta = (event.get("resourcePreEvent") or {}).get("metadata") or {}
            if meta.get("op") == "create":
                counts[meta["type"]] = counts.get(meta["type"], 0) + 1
        return counts

    def policy_findings(self, step: str = "preview-empty") -> set[tuple[str, str, str]]:
        """(enforcement level, policy, resource name) of every violation the pack reported in a preview."""
        return {(p["enforcementLevel"], p["policyName"], (p.get("resourceUrn") or "").rsplit("::", 1)[-1])
                for p in (e["policyEvent"] for e in self.events(step) if "policyEvent" in e)}

    def again_without_changes(self) -> UserPath:
        """Steps 3 and 4: the next pull request's preview (with the pack) and `up`, both without changes."""
        self.pulumi("preview-again", "preview", "--policy-pack", str(PACK), "--expect-no-changes", "--diff")
        self.pulumi("up-again", "up", "--yes", "--skip-preview", "--expect-no-changes", "--diff")
        return self

    def require(self, step: str) -> None:
        result = self.steps[step]
        assert result.returncode == 0, f"{step} of stack {self.stack} failed:\n{result.stdout}\n{result.stderr}"

    def wire_forms(self, scenario: str) -> tuple[set[str], set[str]]:
        """Forms of the captured Check/Diff requests against tests/providers/wire_forms/<scenario>.json:
        (only seen now, only stored); both empty when the stored fixtures are what the engine sends."""
        from tests.providers import wire_forms

        assert self.project.capture is not None, "the project was not capturing"
        captured = wire_forms.records_from_capture(self.project.capture, self.project.step_of)
        assert captured, "no Check/Diff request was captured: is tests/engine/wire_capture on PYTHONPATH?"
        return wire_forms.keep_or_compare(scenario, captured)

    def destroy(self) -> Destroyed:
        """Step 5 as the README describes it: a plain destroy refuses the protected resources; after
        `pulumi state unprotect --all` a second destroy removes everything."""
        before = self.project.resources(self.stack)
        refused = self.pulumi("destroy", "destroy", "--yes", "--skip-preview")
        left = self.project.resources(self.stack)
        self.project.run("state", "unprotect", "--stack", self.stack, "--all", "--yes")
        self.pulumi("destroy-unprotected", "destroy", "--yes", "--skip-preview")
        self.require("destroy-unprotected")
        return Destroyed(before, refused, left, self.project.resources(self.stack))


@dataclass(frozen=True)
class Destroyed:
    """What the two destroys of `UserPath.destroy` did."""

    before: list[dict[str, Any]]
    refused: subprocess.CompletedProcess[str]
    left: list[dict[str, Any]]
    """What the refused destroy left in the state."""
    after: list[dict[str, Any]]

    def check_refusal(self) -> None:
        """What the README promises: the plain destroy fails, naming the protected resources, deletes everything
        else and leaves exactly the protected resources; the destroy after `state unprotect` leaves nothing."""
        output = self.refused.stdout + self.refused.stderr
        protected = self.names(self.before, protected=True)
        assert self.refused.returncode != 0, output
        assert protected, "nothing in the stack is protected"
        assert "protected" in output, output
        unnamed = sorted(name for name in protected if name not in output)
        assert not unnamed, f"the refusal does not name {unnamed}:\n{output}"
        assert self.names(self.left) == protected, (
            f"left after the refused destroy: {sorted(self.names(self.left))}; protected: {sorted(protected)}")
        assert self.names(self.after) == set()

    @staticmethod
    def names(resources: list[dict[str, Any]], *, protected: bool | None = None) -> set[str]:
        """URN names of the custom resources (providers and the stack left out), optionally by protection."""
        return {
            r["urn"].rsplit("::", 1)[-1]
            for r in resources
            if r.get("custom") and not r["type"].startswith("pulumi:providers:")
            and (protected is None or bool(r.get("protect")) == protected)
        }


def s3_server(action: str, port: int) -> None:
    """Start or stop the project's loopback S3 server on a given port."""
    subprocess.run(["bash", str(ROOT / "scripts" / "s3-server.sh"), action], check=True, timeout=120,
                   env=dict(os.environ, HLB_S3_PORT=str(port)), capture_output=True)
