"""Shared fixtures: a small valid estate every inventory/plan test starts from and changes one thing in; the time
each suite took, printed at the end of the run; and how `scripts/test.sh` spreads the suites over pytest-xdist
workers (`xdist_group` per test, slowest groups first)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.suite_times import SuiteTimes

BASE_ESTATE: dict[str, Any] = {
    "truenas": {"host": "citadel.internal"},
    "budget_usd_per_month": 100,
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/ping-key/"}},
    "destinations": [
        {"name": "nas", "kind": "nfs", "server": "citadel.internal", "path": "/mnt/storage0/backups"},
        {"name": "b2", "kind": "b2", "region": "us-east-005"},
        {"name": "r2", "kind": "r2", "account_id": "0123456789abcdef0123456789abcdef"},
    ],
    "datasets": [
        {"name": "vaultwarden", "tier": 1, "size_gb": 2,
         "source": {"kind": "pvc", "namespace": "vaultwarden", "claim": "vaultwarden-data",
                    "storage_class": "ceph-block", "capacity": "5Gi"}},
        {"name": "grafana", "tier": 2, "size_gb": 1,
         "source": {"kind": "pvc", "namespace": "monitoring", "claim": "grafana", "storage_class": "ceph-block",
                    "capacity": "5Gi", "mover": "kopia"}},
        {"name": "immich-db", "tier": 1, "size_gb": 10,
         "source": {"kind": "postgres", "namespace": "database", "cluster": "postgres18-immich"}},
        {"name": "photos", "tier": 1, "size_gb": 500, "source": {"kind": "truenas", "dataset": "storage0/photos"}},
        {"name": "media", "tier": 3, "size_gb": 4000,
         "source": {"kind": "pvc", "namespace": "media", "claim": "library", "storage_class": "ceph-block",
                    "capacity": "5Ti"}},
        {"name": "grafana-db", "tier": 2, "size_gb": 0.1,
         "source": {"kind": "export", "engine": "sqlite", "namespace": "monitoring", "target": "photos",
                    "sqlite_claim": "grafana", "sqlite_path": "grafana.db"}},
    ],
}


@pytest.fixture
def estate() -> dict[str, Any]:
    """A fresh deep copy of the base estate, free to mutate."""
    return copy.deepcopy(BASE_ESTATE)


def pytest_configure(config: pytest.Config) -> None:
    """Print the time of each suite at the end of the run (tests/suite_times.py); on the xdist controller, name
    the file the workers leave the test groups in; and keep the engine's automatic disk logs off (scripts/env.sh)."""
    os.environ.setdefault("HLB_PULUMI_DISK_LOGS", "0")
    if not os.environ.get("PYTEST_XDIST_WORKER") and config.getoption("numprocesses", None):
        os.environ[GROUPS_FILE] = str(Path(tempfile.mkdtemp(prefix="hlb-xdist-")) / "groups.json")
    if not config.pluginmanager.has_plugin("suite_times"):
        workers = 0 if os.environ.get("PYTEST_XDIST_WORKER") else int(config.getoption("numprocesses", 0) or 0)
        config.pluginmanager.register(SuiteTimes(workers), "suite_times")


SESSION_SERVERS = {"estate": "drill-estate", "restic_repository": "drill-estate", "kube": "kube-apiserver",
                   "prod_export": "prod-mocks", "prod": "prod-mocks", "applied": "prod-mocks",
                   "pve_stack": "prod-mocks"}
"""Session fixtures that start servers, run the engine or run an example stack under mocks (tests/drills,
tests/kubernetes, tests/runbook and tests/components conftests) -> the xdist group of every module using one: each
starts once per run, not once per worker (the five stack runs under mocks were built on every worker: 25 s)."""
FIRST = ("tests/drills/test_r2_lock_drill.py", "tests/engine/test_policies_engine.py", "drill-estate",
         "tests/drills/test_site_loss.py", "kube-apiserver", "tests/engine/test_operator_commands.py",
         "tests/engine/test_all_kinds_stack.py", "tests/engine/test_truenas_stack.py",
         "tests/drills/test_narrowed_keys.py", "tests/engine/test_pack_agrees.py", "tests/engine/test_local_stack.py",
         "prod-mocks")
"""The longest groups, longest first (measured with --durations), handed out first so no worker starts one near
the end. The R2 lock drill is mostly restic's retry back-off (sleep), so its worker leaves the cores to the others."""


def _scope_of(item: pytest.Item, name: str) -> str | None:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get(name)
    return definitions[-1].scope if definitions else None


def xdist_groups(items: list[pytest.Item]) -> dict[str, str]:
    """Module -> the unit of work its tests belong to: the session server one of them needs, else the module itself
    (its module fixtures are then set up once, and its tests run in their written order)."""
    groups: dict[str, str] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        server = next((SESSION_SERVERS[f] for f in getattr(item, "fixturenames", ()) if f in SESSION_SERVERS
                       and _scope_of(item, f) == "session"), None)  # not this file's own `estate`
        if server is not None or module not in groups:
            groups[module] = server or groups.get(module, module)
    return groups


GROUPS_FILE = "HLB_XDIST_GROUPS"
"""Environment variable naming the file in which workers leave nodeid -> group for the controller's scheduler.

xdist's own `--dist loadgroup` cannot be used: it appends `@group` to `item._nodeid`, which pytest 9 no longer
reads, so every test was scheduled on its own and each worker started every session server."""


def pytest_unconfigure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get(GROUPS_FILE):
        shutil.rmtree(Path(os.environ.pop(GROUPS_FILE)).parent, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """On an xdist worker: order the groups (FIRST) and write every test's group for the controller."""
    result = yield
    groups_file = os.environ.get(GROUPS_FILE)
    if os.environ.get("PYTEST_XDIST_WORKER") and groups_file:
        groups = xdist_groups(items)
        rank = {group: i for i, group in enumerate(FIRST)}
        items.sort(key=lambda item: rank.get(groups[item.nodeid.split("::", 1)[0]], len(FIRST)))  # stable sort
        by_test = {item.nodeid: groups[item.nodeid.split("::", 1)[0]] for item in items}
        partial = Path(f"{groups_file}.{os.environ['PYTEST_XDIST_WORKER']}")
        partial.write_text(json.dumps(by_test))
        partial.replace(groups_file)  # every worker writes the same map; the rename keeps the file whole
    return result


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`: whole groups per worker, in collection order (see GROUPS_FILE)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups_file = os.environ[GROUPS_FILE]

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = json.loads(Path(groups_file).read_text())
            return self.groups.get(nodeid, nodeid.split("::", 1)[0])

    return GroupScheduling(config, log)


# Under pytest-xdist the drills and the dry runs record their tables in the workers, and the controller, which
# never loads the tests/drills or tests/kubernetes conftests, prints them: the workers send them at the end.


def _summary_wire() -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if "tests.drills.records" in sys.modules:
        wire["drills"] = sys.modules["tests.drills.records"].RECORDS.to_wire()
    if "tests.kubernetes.objects" in sys.modules:
        wire["tally"] = {k: list(v) for k, v in sys.modules["tests.kubernetes.objects"].TALLY.items()}
    return wire


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["summaries"] = _summary_wire()


_from_workers: list[dict[str, Any]] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _from_workers.append(getattr(node, "workeroutput", {}).get("summaries", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _from_workers:
        return  # not under xdist: tests/drills and tests/kubernetes conftests print their own
    from tests.drills.records import Records

    records = Records()
    tally: dict[str, list[int]] = {}
    for wire in _from_workers:
        if "drills" in wire:
            records.merge(wire["drills"])
        tally.update(wire.get("tally", {}))
    lines = records.summary()
    if lines:
        terminalreporter.section("restore drills")
        for line in lines:
            terminalreporter.write_line(line)
    if tally:
        terminalreporter.section("server-side dry-run applies (real kube-apiserver)")
        for estate_name, (accepted, rejected) in tally.items():
            terminalreporter.write_line(f"{estate_name}: {accepted} accepted, {rejected} rejected")
