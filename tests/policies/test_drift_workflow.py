"""The nightly drift workflow: scheduled, read-only like the pull-request preview, runs scripts/drift.sh on prod, and
actionlint accepts it. What drift.sh does against a real stack is tested in tests/engine/test_operator_commands.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policies.test_preview_workflow import _actionlint

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "drift.yml"
PREVIEW = ROOT / ".github" / "workflows" / "preview.yml"


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def test_runs_nightly_and_on_demand_only():
    triggers = _workflow()[True]  # PyYAML reads the bare key `on` as True (YAML 1.1)
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (entry,) = triggers["schedule"]
    minute, hour, *rest = entry["cron"].split()
    assert rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit(), "once a day at a fixed time"


def test_has_no_write_permission_and_only_the_read_only_environment():
    workflow = _workflow()
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "preview", "the environment holding the READ-ONLY keys, never `production`"
    assert "permissions" not in job


def test_runs_the_drift_script_on_prod_with_the_pinned_cli():
    (job,) = _workflow()["jobs"].values()
    action = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert "command" not in action.get("with", {}), "the action only installs the CLI"
    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("pulumi=="))
    assert action["with"]["pulumi-version"] == pin.split("==")[1]
    run = next(s for s in job["steps"] if "scripts/drift.sh" in s.get("run", ""))
    assert run["run"].split() == ["bash", "scripts/drift.sh", "prod"]
    script = (ROOT / "scripts" / "drift.sh").read_text()
    assert "--preview-only --expect-no-changes" in script, "the refresh must not write state (read-only keys)"
    assert "pulumi preview --stack \"$stack\" --expect-no-changes" in script


def test_credentials_are_the_ones_the_preview_gets():
    (job,) = _workflow()["jobs"].values()
    env = next(s for s in job["steps"] if "scripts/drift.sh" in s.get("run", ""))["env"]
    preview_names = set(re.findall(r"secrets\.([A-Z0-9_]+)", PREVIEW.read_text())) - {"GITHUB_TOKEN"}
    drift_names = {m for v in env.values() for m in re.findall(r"secrets\.([A-Z0-9_]+)", v)}
    assert drift_names == preview_names
    assert all(env[name] == f"${{{{ secrets.{name} }}}}" for name in drift_names)


def test_actionlint_accepts_the_workflow():
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint is not installed and cannot be built here (no Go or no module proxy)")
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
