"""Kubernetes objects as Flux would apply them, and a server-side dry-run apply of each against a real server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.kubernetes.apiserver import ApiError, ApiServer

FIELD_MANAGER = "flux"
"""The field manager the dry runs apply as."""

TALLY: dict[str, tuple[int, int]] = {}
"""(accepted, rejected) dry-run applies per estate, printed in the test summary (tests/kubernetes/conftest.py)."""


@dataclass(frozen=True)
class Manifest:
    """One object, and the exact text sent to the server (a rendered file's own YAML, else the object as JSON)."""

    obj: dict[str, Any]
    text: str


def rendered_objects(render_dir: Path) -> list[Manifest]:
    """Every document in a render-mode output tree (`<render_dir>/<namespace>/1-manifest/*.yaml`), as written.

    The text goes to the server unchanged: the API server reads YAML as YAML 1.1 (like kubectl), so a value such
    as an unquoted `y` or `on` would arrive as a boolean; a file that survives this survives any YAML reader.
    """
    manifests = []
    for path in sorted(render_dir.rglob("*.yaml")):
        for text in re.split(r"(?m)^---\s*$", path.read_text()):
            obj = yaml.safe_load(text)
            if obj:
                manifests.append(Manifest(obj, text))
    return manifests


def registered_objects(registered: Iterable[Any]) -> list[dict[str, Any]]:
    """The objects a render-mode provider would write, from resources registered under mocks.

    Patches are left out (render mode declares none); every other `kubernetes:` resource carries its full
    object as inputs.
    """
    objects = []
    for resource in registered:
        if not resource.typ.startswith("kubernetes:") or resource.typ.endswith("Patch"):
            continue
        inputs = resource.inputs
        objects.append({k: inputs[k] for k in ("apiVersion", "kind", "metadata", "spec", "data", "stringData",
                                              "rules", "roleRef", "subjects")
                        if k in inputs})
    return objects


def volsync_variants(obj: dict[str, Any]) -> tuple[str, ...]:
    """Which VolSync CRD trees an object must be accepted by (mirrors tests/manifests/crd_schema.py).

    Restic objects must fit upstream VolSync and the kopia fork (users may run either); kopia ones and
    KopiaMaintenance exist only in the fork; every other kind does not care (None).
    """
    if obj["apiVersion"] != "volsync.backube/v1alpha1":
        return ("any",)
    if obj["kind"] == "KopiaMaintenance" or "kopia" in obj.get("spec", {}):
        return ("volsync-kopia",)
    return ("volsync", "volsync-kopia")


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{obj.get('kind')} {meta.get('namespace', '-')}/{meta.get('name')}"


def pruned(sent: Any, returned: Any, path: str = "") -> list[str]:
    """Paths the program sent that the server dropped (a field the CRD does not know is pruned silently).

    Built-in kinds omit zero values (`readOnly: false`) when serialising: those are not drops.
    """
    if isinstance(sent, dict):
        if not isinstance(returned, dict):
            return [path or "<root>"]
        return [p for key, value in sent.items()
                for p in (pruned(value, returned[key], f"{path}.{key}") if key in returned
                          else [] if value in (False, 0, "", [], {}) and value is not None else [f"{path}.{key}"])]
    if isinstance(sent, list):
        if not isinstance(returned, list) or len(returned) != len(sent):
            return [path]
        return [p for i, (a, b) in enumerate(zip(sent, returned, strict=True)) for p in pruned(a, b, f"{path}[{i}]")]
    return []


@dataclass
class DryRunReport:
    applied: list[str] = field(default_factory=list)
    """`<variant>: <object>` for every accepted dry run."""
    rejections: list[str] = field(default_factory=list)
    """`<object> [<variant>]: <server message>`."""

    def summary(self) -> str:
        return "\n".join([f"{len(self.applied)} dry-run applies accepted, {len(self.rejections)} rejected:",
                          *self.rejections])


def dry_run(server: ApiServer, objects: list[dict[str, Any] | Manifest], tally: str | None = None) -> DryRunReport:
    """Server-side dry-run apply every object as Flux would (namespaces created first), under each VolSync CRD
    tree the object must fit. Every refusal and every pruned field is a rejection; `tally` names the estate in
    the run's summary."""
    report = DryRunReport()
    manifests = [o if isinstance(o, Manifest) else Manifest(o, json.dumps(o)) for o in objects]
    objects = [m.obj for m in manifests]
    for namespace in sorted({o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]}):
        server.ensure_namespace(namespace)
    by_variant: dict[str, list[Manifest]] = {}
    for manifest in manifests:
        for variant in volsync_variants(manifest.obj):
            by_variant.setdefault(variant, []).append(manifest)
    for variant, batch in sorted(by_variant.items()):
        server_variant = server.volsync if variant == "any" else variant
        with server.volsync_variant(server_variant):
            for manifest in batch:
                obj = manifest.obj
                label = f"{_name(obj)} [{server_variant if variant != 'any' else 'core/CRD'}]"
                try:
                    returned = server.apply(obj, FIELD_MANAGER, dry_run=True, text=manifest.text)
                except ApiError as error:
                    report.rejections.append(f"{label}: {error.message}")
                    continue
                sent = {k: v for k, v in obj.items() if k not in ("metadata", "stringData")}  # stringData -> data
                sent["metadata"] = {k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations")}
                dropped = pruned(sent, returned)
                if dropped:
                    report.rejections.append(f"{label}: the server pruned {', '.join(dropped)}")
                else:
                    report.applied.append(label)
    if tally is not None:
        TALLY[tally] = (len(report.applied), len(report.rejections))
    return report
