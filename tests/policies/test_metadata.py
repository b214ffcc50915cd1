"""Every policy of the pack: a stable kebab-case name (target-verb-thing), a one-sentence description, severity,
remediation, a config schema whose defaults are the pack's defaults, and nothing importing the program."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel, Policy, Severity

import policies.rules as rules_package
from policies.rules import config

PACK = Path(rules_package.__file__).resolve().parents[1]
VERBS = ("missing", "disallow", "enable", "configure", "enforce")
NAME = re.compile(rf"^[a-z0-9]+(-[a-z0-9]+)*-({'|'.join(VERBS)})(-[a-z0-9]+)+$")
RULE_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(rules_package.__path__) if not m.ispkg and m.name != "config")
PROGRAM_PACKAGES = {"components", "inventory", "plan", "manifests", "providers", "runbook"}


def _policy(module: str) -> Policy:
    return importlib.import_module(f"policies.rules.{module}").POLICY


@pytest.mark.parametrize("module", RULE_MODULES)
def test_name_is_target_verb_thing_and_matches_the_module(module):
    policy = _policy(module)
    assert NAME.match(policy.name), policy.name
    assert policy.name.replace("-", "_") == module


@pytest.mark.parametrize("module", RULE_MODULES)
def test_description_is_one_sentence(module):
    description = _policy(module).description
    assert description[0].isupper() and description.endswith("."), description
    assert description.count(". ") == 0 and len(description) <= 140, description


@pytest.mark.parametrize("module", RULE_MODULES)
def test_severity_remediation_and_enforcement_are_declared(module):
    policy = _policy(module)
    assert isinstance(policy.severity, Severity)
    assert policy.remediation_steps and policy.remediation_steps.endswith(".")
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)


@pytest.mark.parametrize("module", RULE_MODULES)
def test_config_schema_defaults_are_the_packs(module):
    schema = _policy(module).config_schema
    for key, prop in (schema.properties.items() if schema else []):
        assert prop["default"] == config.DEFAULTS[key], key


def test_the_pack_assembles_every_rule_module_once():
    main = (PACK / "__main__.py").read_text()
    tree = ast.parse(main)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert len(calls) == 1
    statements = [type(s).__name__ for s in tree.body]
    assert statements[-1] == "Expr" and set(statements[:-1]) <= {"ImportFrom", "Import", "Expr"}
    assembled = re.findall(r"^\s+(\w+)\.POLICY,$", main, re.MULTILINE)
    assert sorted(assembled) == RULE_MODULES


def test_no_two_policies_share_a_name():
    names = [_policy(m).name for m in RULE_MODULES]
    assert len(names) == len(set(names))


def test_the_pack_never_imports_the_program():
    for path in PACK.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & PROGRAM_PACKAGES, f"{path} imports {roots & PROGRAM_PACKAGES}"


def test_requirements_pin_the_projects_pulumi_policy():
    project = (PACK.parent / "requirements.txt").read_text().splitlines()
    pack = (PACK / "requirements.txt").read_text().splitlines()
    pin = next(line for line in project if line.startswith("pulumi-policy=="))
    assert pin in pack


def test_pulumipolicy_yaml_runs_python():
    assert "runtime: python" in (PACK / "PulumiPolicy.yaml").read_text().splitlines()
