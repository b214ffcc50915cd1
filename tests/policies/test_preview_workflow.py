"""The pull-request pipeline previews prod with the pack through the official action, and actionlint accepts it.

actionlint is built from its Go module into the shared cache (scripts/toolchain.sh keeps its builds there too) when
Go and the module proxy are reachable; without them only the structure is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"
UP_WORKFLOW = ROOT / ".github" / "workflows" / "up.yml"
CACHE = Path(os.environ.get("HOMELAB_BACKUPS_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "homelab-backups"))
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@latest"


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _pulumi_step(workflow: dict[Any, Any]) -> dict[str, Any]:
    steps = [s for job in workflow["jobs"].values() for s in job["steps"] if str(s.get("uses", "")).startswith(
        "pulumi/actions@")]
    assert len(steps) == 1, steps
    return steps[0]


def test_runs_on_pull_requests_only():
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    triggers = _workflow()[True]
    assert set(triggers) == {"pull_request"}


def test_previews_prod_with_the_pack_through_the_official_action():
    step = _pulumi_step(_workflow())
    assert step["uses"] == "pulumi/actions@v7"
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "prod"
    assert inputs["policyPacks"] == "policies"
    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("pulumi=="))
    assert inputs["pulumi-version"] == pin.split("==")[1], "the CLI matches the pinned SDK"
    assert set(inputs) <= {"command", "stack-name", "pulumi-version", "cloud-url", "policyPacks", "policyPackConfigs",
                           "comment-on-pr", "github-token", "suppress-outputs", "diff", "work-dir"}


def test_the_pack_finds_its_dependencies_on_path():
    preview = _workflow()["jobs"]["preview"]["steps"]
    install = next(s for s in preview if "pip install -r requirements.txt" in s.get("run", ""))
    assert '.venv/bin" >> "$GITHUB_PATH"' in install["run"]


def _actionlint() -> Path | None:
    found = shutil.which("actionlint")
    if found:
        return Path(found)
    tools = CACHE / "tools"
    binary = tools / "actionlint"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        return None
    tools.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["go", "install", ACTIONLINT_MODULE], env=dict(os.environ, GOBIN=str(tools),
                            GOFLAGS="-mod=mod", GOTOOLCHAIN="local"), capture_output=True, text=True, timeout=600)
    return binary if result.returncode == 0 and binary.exists() else None


def test_actionlint_accepts_the_workflow():
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint is not installed and cannot be built here (no Go or no module proxy)")
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW), str(UP_WORKFLOW)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_get_read_only_settings_and_never_run_up():
    workflow = _workflow()
    # pull_request_target would hand the base repository's secrets to a fork's code.
    assert set(workflow[True]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    preview = workflow["jobs"]["preview"]
    assert preview["environment"] == "preview", "admin keys live in `production`, which pull requests never reach"
    assert _pulumi_step(workflow)["with"]["command"] == "preview"
    header = WORKFLOW.read_text().split("\nname:")[0]
    assert "READ-ONLY" in header and "admin key" in header


def test_up_runs_only_from_the_default_branch_in_the_protected_environment():
    workflow = yaml.safe_load(UP_WORKFLOW.read_text())
    assert set(workflow[True]) == {"push", "workflow_dispatch"}
    assert workflow[True]["push"] == {"branches": ["main"]}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "production"
    assert job["if"] == "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert step["with"]["command"] == "up" and step["with"]["policyPacks"] == "policies"
    assert workflow["permissions"] == {"contents": "read"}
