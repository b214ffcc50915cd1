"""The policy pack through the real engine built by scripts/toolchain.sh.

- The local stack previews with the pack (one real `pulumi preview`, loopback S3 server on a free port), and the
  same preview is blocked once a policy's config makes the estate non-compliant.
- The prod estate, exported from a mocked run (aws and cloudflare cannot run here), passes `pulumi policy analyze`.
- The compliant fixture estate passes, and every scenario (one mistake per rule family) is refused with a
  mandatory violation naming the dataset (or bucket, key) and the fix; pack config changes bounds and levels.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.engine import deployment
from tests.engine.project import EngineProject, free_port, s3_server
from tests.engine.scenarios import catalog
from tests.engine.scenarios.estate import deployment as estate_deployment
from tests.policies import fixtures

pytestmark = [pytest.mark.engine, pytest.mark.slow]  # 26 scenarios through the engine: minutes

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policies"
"""The s3-compatible provider's check rejects the integral floats the engine sends (14.0); being fixed."""


@dataclass(frozen=True)
class Analysis:
    """One `pulumi policy analyze` run: exit code, policy events, stderr."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str

    def mandatory(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["enforcementLevel"] == "mandatory"]

    def describe(self) -> str:
        return "\n".join(f"[{e['enforcementLevel']}] {e['policyName']}: {e['message']}" for e in self.events)


class Engine:
    """The toolchain's `pulumi` with its own PULUMI_HOME and file backend (scripts/env.sh links the plugins)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = dict(os.environ) | {
            "PULUMI_HOME": str(workdir / "home"),
            "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "policy-engine-tests",
            "HLB_POLICY_PACK": str(PACK),
        }
        (workdir / "state").mkdir(parents=True, exist_ok=True)

    def pulumi(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        command = f'source "{ROOT}/scripts/env.sh" && cd "{self.workdir}" && pulumi "$@"'
        return subprocess.run(["bash", "-c", command, "pulumi", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def analyze(self, name: str, state: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> Analysis:
        path = self.workdir / f"{name}.json"
        deployment.write(path, state)
        args = ["policy", "analyze", "--file", str(path), "--policy-pack", str(PACK), "--json"]
        if config is not None:
            config_path = self.workdir / f"{name}.config.json"
            config_path.write_text(json.dumps(config))
            args += ["--policy-pack-config", str(config_path)]
        result = self.pulumi(*args)
        events = [json.loads(line)["policyEvent"] for line in result.stdout.splitlines()
                  if line.strip() and "policyEvent" in json.loads(line)]
        return Analysis(result.returncode, events, result.stderr)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    if not (ROOT / ".toolchain" / "bin" / "pulumi").exists():
        pytest.skip("the engine is not built here: run scripts/toolchain.sh")
    return Engine(tmp_path_factory.mktemp("policy-engine"))


# --- the fixture estate and the scenarios ---------------------------------------------------------------------------


def test_compliant_estate_passes(engine):
    analysis = engine.analyze("compliant", estate_deployment(fixtures.Estate()))
    assert analysis.returncode == 0, analysis.describe() + analysis.stderr
    assert analysis.mandatory() == []


def test_compliant_estate_with_a_replicated_kopiur_dataset_passes(engine):
    estate = fixtures.Estate()
    estate.add_kopiur()
    analysis = engine.analyze("compliant-kopiur", estate_deployment(estate))
    assert analysis.returncode == 0, analysis.describe() + analysis.stderr
    assert analysis.mandatory() == []


@pytest.mark.parametrize("scenario", catalog.SCENARIOS, ids=lambda s: s.name)
def test_scenario_is_refused_with_dataset_and_fix(engine, scenario):
    estate = fixtures.Estate()
    scenario.change(estate)
    analysis = engine.analyze(scenario.name, estate_deployment(estate))
    assert analysis.returncode != 0, f"{scenario.name} was not refused:\n{analysis.describe()}"
    messages = [e["message"] for e in analysis.mandatory() if e["policyName"] == scenario.policy]
    assert messages, f"{scenario.policy} did not fire for {scenario.name}:\n{analysis.describe()}"
    assert any(all(fragment in m for fragment in scenario.expect) for m in messages), "\n".join(messages)


def test_config_relaxes_a_bound_and_lowers_a_level(engine):
    estate = fixtures.Estate()
    catalog.over_budget(estate)
    catalog.rpo_violated(estate)
    config = {"cost-enforce-monthly-budget": {"budgetUsdPerMonth": 100},
              "dataset-enforce-rpo": {"enforcementLevel": "advisory"}}
    analysis = engine.analyze("configured", estate_deployment(estate), config)
    assert analysis.returncode == 0, analysis.describe()
    # dataset-enforce-restore-time is advisory by design (photos: 500 GB over 100 Mbit/s); tested below.
    assert [(e["policyName"], e["enforcementLevel"]) for e in analysis.events
            if e["policyName"] not in ("dataset-missing-integrity-check", "dataset-enforce-restore-time")] == [
        ("dataset-enforce-rpo", "advisory")]


def test_a_slow_site_loss_restore_is_reported_without_blocking(engine):
    estate = fixtures.Estate()
    analysis = engine.analyze("restore-time", estate_deployment(estate))
    assert analysis.returncode == 0, analysis.describe() + analysis.stderr
    (event,) = [e for e in analysis.events if e["policyName"] == "dataset-enforce-restore-time"]
    assert event["enforcementLevel"] == "advisory"
    assert "\ndataset photos (tier 1): after losing the site its fastest copy" in event["message"]
    assert "11.1 h to restore 500 GB at 100 Mbit/s; tier 1 allows 8 h" in event["message"]
    # What the program declares on the dataset component (the destination's restore_mbps) is what counts.
    estate.photos.props["restore_mbps"] = {"b2": 1000.0, "r2": 100.0}
    faster = engine.analyze("restore-time-declared", estate_deployment(estate))
    assert not [e for e in faster.events if e["policyName"] == "dataset-enforce-restore-time"], faster.describe()


def test_secret_values_reach_the_pack_as_secrets(engine):
    """A Secret whose values are secrets passes: the engine's markers survive into the rules."""
    estate = fixtures.Estate()
    estate.add(fixtures.kinds.SECRET, "vaultwarden-b2-repository", fixtures.k8s_secret(), estate.vw_b2.parent)
    analysis = engine.analyze("secret-values", estate_deployment(estate))
    assert analysis.returncode == 0, analysis.describe()


# --- the program's own stacks ---------------------------------------------------------------------------------------


KNOWN_PROD_GAPS: dict[tuple[str, str], str] = {}
"""Mandatory violations prod has today and why (program work in progress). The test fails on any other violation,
and on any gap listed here that no longer occurs (delete its entry): when this is empty, prod passes outright."""


def test_prod_estate_passes_policy_analyze_except_known_program_gaps(engine):
    analysis = engine.analyze("prod", deployment.from_program("prod"))
    found = {(e["policyName"], e["resourceUrn"].rsplit("::", 1)[-1]) for e in analysis.mandatory()}
    unexpected = sorted(found - KNOWN_PROD_GAPS.keys())
    fixed = sorted(KNOWN_PROD_GAPS.keys() - found)
    assert not unexpected, f"prod violates the pack: {unexpected}\n{analysis.describe()}"
    assert not fixed, f"fixed in the program, delete from KNOWN_PROD_GAPS: {fixed}"
    assert (analysis.returncode == 0) == (not found), analysis.stderr


@pytest.fixture(scope="module")
def local_project(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[EngineProject]:
    port = free_port()
    s3_server("start", port)
    try:
        project = EngineProject(tmp_path_factory.mktemp("policy-local"), s3_port=port)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HLB_POLICY_PACK", str(PACK))
            project.run("stack", "init", "local")
            yield project
    finally:
        s3_server("stop", port)


def _preview(project: EngineProject, *extra: str) -> subprocess.CompletedProcess[str]:
    return project.run("preview", "--stack", "local", "--policy-pack", str(PACK), *extra, check=False)


def test_local_stack_preview_passes_the_pack(local_project):
    result = _preview(local_project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "homelab-backups@v0.1.0" in output
    assert "[mandatory]" not in output, output


def test_local_stack_preview_is_blocked_by_a_mandatory_violation(local_project, tmp_path):
    config = tmp_path / "strict.json"
    config.write_text(json.dumps({"dataset-enforce-rpo": {"tiers": {"1": {"maxRpoHours": 1}}}}))
    result = _preview(local_project, "--policy-pack-config", str(config))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "[mandatory]" in output and "dataset-enforce-rpo" in output
    assert "dataset vaultwarden (tier 1): its most frequent recovery point comes every 6 h" in output
    assert "schedule it at least every 1 h" in output
