"""Golden files: what the local stack and the mocked prod stack render and export, compared with stored files.

Captured first from commit 52b96d9 (before issue 14 moved derivations into the plan). Every difference since is a
bug fixed on purpose, listed in the issue's closing note. Set HLB_UPDATE_GOLDEN=1 to rewrite the files from a run
(then review `git diff tests/golden` line by line: each change must be one you meant).

Stored per stack:
- `<stack>.manifests.json`: every Kubernetes object the program declares (its type, name, parent and inputs), and
  every NAS resource (TrueNAS tasks and credentials), as the engine receives them;
- `<stack>.outputs.json`: the stack outputs.

Secrets are masked deterministically: a secret value (an engine secret envelope, or a mock credential
`SECRET-...`) becomes `<secret:HASH>`, HASH a digest of the value, so a changed secret still shows while no value
is stored.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from tests.components.harness import PROD_ENV, Registered, run_estate

HERE = Path(__file__).resolve().parent
UPDATE_ENV = "HLB_UPDATE_GOLDEN"
SECRET_SIG_KEY, SECRET_SIG = rpc._special_sig_key, rpc._special_secret_sig
STACKS: dict[str, dict[str, str]] = {
    "local": {"HLB_LOCAL_S3_ACCESS_KEY_ID": "local-s3-admin-id", "HLB_LOCAL_S3_SECRET_ACCESS_KEY": "SECRET-local-s3"},
    "prod": PROD_ENV,
}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return f"<secret:{hashlib.sha256(text.encode()).hexdigest()[:12]}>"


def masked(value: Any, secret: bool = False) -> Any:
    """`value` with every secret replaced by its digest; unknowns (preview) shown as `<unknown>`."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return _digest(value.get("value"))
        return {str(k): masked(v, secret) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [masked(v, secret) for v in value]
    if value == rpc.UNKNOWN or type(value).__name__ == "Unknown":
        return "<unknown>"
    if isinstance(value, str) and (secret or "SECRET-" in value):
        return _digest(value)
    return value


def _provider_class(pickled: Any) -> str:
    """A dynamic resource's `__provider` as the class it unpickles to: the pickle's bytes vary between processes
    (dill records process state), while the class, the fact worth pinning, does not."""
    import base64

    import dill

    if isinstance(pickled, Mapping) and pickled.get(SECRET_SIG_KEY) == SECRET_SIG:
        pickled = pickled.get("value")
    provider = dill.loads(base64.b64decode(pickled))
    return f"{type(provider).__module__}.{type(provider).__qualname__}"


def _parent(urn: str | None) -> str | None:
    return urn.split("::")[-1] if urn else None


def _rendered(registered: list[Registered]) -> dict[str, Any]:
    """Kubernetes objects and NAS resources, keyed by type and name (both unique within a stack)."""
    objects = {}
    for r in registered:
        if not r.custom or not (r.typ.startswith("kubernetes:") or "truenas" in r.typ):
            continue
        if r.typ == "pulumi:providers:kubernetes":
            continue
        key = f"{r.typ} {r.name}"
        assert key not in objects, f"two resources registered as {key}"
        inputs = dict(r.inputs)
        if "__provider" in inputs:
            inputs["__provider"] = _provider_class(inputs["__provider"])
        objects[key] = {"parent": _parent(r.parent), "protect": r.protect,
                        "secret_outputs": sorted(r.secret_outputs), "inputs": masked(inputs)}
    return dict(sorted(objects.items()))


def _outputs(exported: dict[str, Any]) -> dict[str, Any]:
    return {
        "runbook": masked(exported["runbook"]),
        "secrets": masked(exported["secrets"], secret=True),
        "credentials": masked(exported["credentials"], secret=True),
        "reader_credentials": masked(exported["reader_credentials"], secret=True),
        "cnpg_cluster_plugins": masked(exported["cluster_plugins"]),
    }


@functools.cache
def _capture(stack: str) -> dict[str, Any]:
    registered, exported = run_estate(stack, env=STACKS[stack])
    return {"manifests": _rendered(registered), "outputs": _outputs(exported)}


def _dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("part", ["manifests", "outputs"])
def test_rendered_objects_and_outputs_match_the_golden_files(stack, part):
    captured = _capture(stack)[part]
    path = HERE / f"{stack}.{part}.json"
    if os.environ.get(UPDATE_ENV):
        path.write_text(_dump(captured))
    assert path.exists(), f"{path.name} missing: run with {UPDATE_ENV}=1 to write it"
    stored = json.loads(path.read_text())
    assert stored.keys() == captured.keys(), (
        f"{stack} {part}: only now {sorted(captured.keys() - stored.keys())}, "
        f"only stored {sorted(stored.keys() - captured.keys())}")
    for key in stored:
        assert captured[key] == stored[key], f"{stack} {part}: {key} differs from {path.name}"
