"""The program and the dynamic providers start without the client libraries they only need to talk to a server.

Every `pulumi preview`/`up` starts the program and a dynamic-provider process (which imports the module of each
provider it unpickles); a preview's check and diff never reach a server. requests/proxmoxer, httpx and the 1Password
SDK, boto3/botocore, urllib3, minio and websockets cost 0.1-0.5 s of CPU each to import, so they are imported where a
client is built or its error is caught. Each check runs in a fresh interpreter and reads its `sys.modules`.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("requests", "httpx", "onepasswordconnectsdk", "boto3", "botocore", "b2sdk", "proxmoxer", "urllib3", "minio",
         "websockets", "croniter")
"""Client libraries: none may be imported before a provider method calls its server."""
PROVIDERS = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "providers").rglob("*.py") if path.name != "__init__.py"
)


def _program_imports() -> list[str]:
    """The `import X` / `from X import ...` modules of `__main__.py`, read from its source."""
    tree = ast.parse((ROOT / "__main__.py").read_text(encoding="utf-8"))
    modules = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    modules += [node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module]
    return modules


def heavy_loaded_by(modules: list[str], root: Path = ROOT) -> dict[str, list[str]]:
    """For each of `modules`, imported in order by one fresh interpreter from the tree at `root`: the HEAVY
    libraries that importing it loaded (one interpreter for all: each costs about half a second of CPU)."""
    script = (f"import importlib, json, sys\nfound = {{}}\nfor m in {modules!r}:\n"
              f"    before = set(sys.modules)\n    importlib.import_module(m)\n"
              f"    found[m] = sorted(h for h in {HEAVY!r} if h in sys.modules and h not in before)\n"
              f"print(json.dumps(found))")
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """The program's imports first (as `__main__.py` makes them), then every provider module."""
    return heavy_loaded_by([*_program_imports(), *PROVIDERS])


def test_the_program_starts_without_client_libraries(loaded: dict[str, list[str]]) -> None:
    program = _program_imports()
    assert "components.estate" in program  # what `__main__.py` composes, so every component module is imported
    assert {module: loaded[module] for module in program if loaded[module]} == {}


def test_a_provider_module_loads_without_client_libraries(loaded: dict[str, list[str]]) -> None:
    """A dynamic-provider process imports the module of each provider it unpickles; a preview runs only check and
    diff, so the module itself must not bring the client its create/read/update/delete use."""
    assert len(PROVIDERS) > 15
    assert {m: loaded[m] for m in PROVIDERS if loaded[m]} == {}


def test_the_check_fails_when_a_module_imports_a_client_library(tmp_path: Path) -> None:
    """The same check on a tree whose provider imports requests at the top, as most of them did before."""
    (tmp_path / "eager.py").write_text("import requests\n", encoding="utf-8")
    (tmp_path / "lazy.py").write_text("def client():\n    import requests\n    return requests\n", encoding="utf-8")
    assert heavy_loaded_by(["lazy", "eager"], tmp_path) == {"lazy": [], "eager": ["requests", "urllib3"]}
