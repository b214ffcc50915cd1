"""House rules of the import graph, read from the source with `ast` (nothing is imported to check them).

Data flows one way: inventory -> plan -> manifests -> components -> outputs, with `stack/` (configuration,
credential naming) and `providers/` (dynamic resources) beside the components and the policy pack apart. The rules:

- plan/, manifests/, inventory/ and runbook/ import no Pulumi, not even through another module of the program
  (the plan is pure; the runbook CLI runs on a laptop without Pulumi);
- the pack (policies/) imports nothing of the program: it judges what the program declares, independently;
- runbook/, providers/ and stack/ import no components (components sit on top of them, not below).

A rule is broken by a direct import, at any depth of the file (function-level imports count), or, for "no
Pulumi", by a chain of program imports that reaches one; the failure names the chain.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ("components", "inventory", "manifests", "plan", "providers", "runbook", "stack")
"""The program's top-level packages; the pack (policies/) is not one of them."""


def is_pulumi(module: str) -> bool:
    """`pulumi`, `pulumi.dynamic`, `pulumi_kubernetes`, ...: anything of the Pulumi SDKs."""
    top = module.split(".")[0]
    return top == "pulumi" or top.startswith("pulumi_")


def is_component(module: str) -> bool:
    return module.split(".")[0] == "components"


def is_program(module: str) -> bool:
    return module.split(".")[0] in PROGRAM


@dataclass(frozen=True)
class Rule:
    """Files under `package` must not import a module `forbidden` accepts (through the program too if `transitive`)."""

    package: str
    forbidden: Callable[[str], bool]
    what: str
    transitive: bool = False


RULES = (
    Rule("plan", is_pulumi, "Pulumi", transitive=True),
    Rule("manifests", is_pulumi, "Pulumi", transitive=True),
    Rule("inventory", is_pulumi, "Pulumi", transitive=True),
    Rule("runbook", is_pulumi, "Pulumi", transitive=True),
    Rule("policies", is_program, "module of the program"),
    Rule("runbook", is_component, "components"),
    Rule("providers", is_component, "components"),
    Rule("stack", is_component, "components"),
)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved against its package."""
    package = _module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _source_of(root: Path, module: str) -> Path | None:
    """The file a program module name stands for, or None (a name imported from a module is not a module)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _executed(root: Path, module: str) -> list[Path]:
    """The files importing `module` runs: each enclosing package's __init__ and the module itself."""
    parts = module.split(".")
    files = [_source_of(root, ".".join(parts[: i + 1])) for i in range(len(parts))]
    return [file for file in files if file is not None]


def violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """Every broken rule in the tree at `root`, as `file:line imports X (chain)`, sorted. Each file is parsed once,
    however many files' chains pass through it."""
    parsed: dict[Path, list[tuple[int, str]]] = {}

    def imports(path: Path) -> list[tuple[int, str]]:
        if path not in parsed:
            parsed[path] = list(imports_of(root, path))
        return parsed[path]

    found: set[str] = set()
    for rule in rules:
        for path in sorted((root / rule.package).rglob("*.py")):
            seen = {path}
            reported: set[tuple[Path, int]] = set()
            queue: list[tuple[Path, list[str]]] = [(path, [])]
            while queue:
                current, chain = queue.pop(0)
                for line, module in imports(current):
                    if rule.forbidden(module) and (current, line) not in reported:
                        reported.add((current, line))
                        where = f"{path.relative_to(root)}:{line}" if not chain else str(path.relative_to(root))
                        through = f" (through {' -> '.join([*chain, f'{current.relative_to(root)}:{line}'])})"
                        found.add(f"{where} imports {module}: {rule.package}/ imports no {rule.what}"
                                  f"{through if chain else ''}")
                    if rule.transitive and is_program(module):
                        for file in _executed(root, module):
                            if file not in seen:
                                seen.add(file)
                                queue.append((file, [*chain, str(current.relative_to(root))]))
    return sorted(found)


def violations_in_a_fresh_interpreter(root: Path) -> list[str]:
    """`violations(root)` computed in a new Python process.

    A full run once failed here with a SystemError out of `ast.parse`, never reproduced alone. CPython 3.11 keeps
    the AST converter's recursion depth in state shared by all threads (python/cpython#106905), so a thread left
    behind by an earlier test that compiles code at the same time can cause it; a process of its own cannot.
    """
    code = "import json, sys; from pathlib import Path; from tests.test_layering import violations; " \
           "print(json.dumps(violations(Path(sys.argv[1]))))"
    done = subprocess.run([sys.executable, "-c", code, str(root)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_program_keeps_its_house_rules() -> None:
    assert violations_in_a_fresh_interpreter(ROOT) == []


def test_every_rule_looks_at_a_package_that_exists() -> None:
    assert all((ROOT / rule.package / "__init__.py").is_file() or rule.package == "policies" for rule in RULES)
    assert all(any((ROOT / rule.package).rglob("*.py")) for rule in RULES)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in PROGRAM:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


def test_a_direct_forbidden_import_is_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "plan/build.py": '"""Pure."""\n\nimport json\n\n\ndef f():\n    import pulumi.dynamic\n',
        "providers/b2.py": "from components.buckets import OffsiteBucket\n",
        "policies/rules/x.py": "from plan.model import Plan\nfrom .support import y\n",
        "policies/rules/support.py": "y = 1\n",
    })
    assert violations_in_a_fresh_interpreter(root) == [
        "plan/build.py:7 imports pulumi.dynamic: plan/ imports no Pulumi",
        "policies/rules/x.py:1 imports plan.model: policies/ imports no module of the program",
        "providers/b2.py:1 imports components.buckets: providers/ imports no components",
    ]


def test_pulumi_reached_through_another_module_of_the_program_is_reported_with_the_chain(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "runbook/drill.py": "from stack.config import env_prefix\n",
        "stack/config.py": "import os\n\nimport pulumi\n",
        "stack/naming.py": "PROJECT = 'p'\n",
        "runbook/ok.py": "from stack.naming import PROJECT\n",
    })
    assert violations_in_a_fresh_interpreter(root) == [
        "runbook/drill.py imports pulumi: runbook/ imports no Pulumi (through runbook/drill.py -> stack/config.py:3)",
    ]


def test_the_pack_may_import_itself_and_pulumi_policy(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "policies/__main__.py": "from pulumi_policy import PolicyPack\nfrom rules import a\n",
        "policies/rules/__init__.py": "",
        "policies/rules/a.py": "from .support import b\n",
        "policies/rules/support.py": "b = 1\n",
    })
    assert violations_in_a_fresh_interpreter(root) == []


@pytest.mark.parametrize("module", ["pulumi", "pulumi.dynamic", "pulumi_kubernetes", "pulumi_policy.proxy"])
def test_pulumi_means_every_pulumi_sdk(module: str) -> None:
    assert is_pulumi(module)


def test_a_program_module_named_like_pulumi_is_not_pulumi() -> None:
    assert not is_pulumi("providers.pulumi_helpers") and not is_pulumi("pulumiish")
