"""Pytest plugin: at the end of the run, the time each suite took, so a slow suite is seen when it grows.

A suite is a top-level package under ``tests/`` (``tests/drills``, ``tests/engine``, ...). Each test's wall time
(setup + call + teardown, so a session server's start-up counts where it is first used) and CPU time (this process
and the children it has waited for: restic, pgBackRest, the engine's CLI runs; not servers that daemonize, such as
scripts/s3-server.sh's) are summed per suite. A session fixture's teardown runs in the teardown of the last test of
its worker; what it costs there (a session server's whole CPU, reaped when it stops: kube-apiserver and etcd, ~40 s)
is counted to the fixture's own suite and listed as the fixture, not to that unrelated test. Under
pytest-xdist the workers measure and the controller adds up, so the sums are busy time, which exceeds the run's
wall time when suites run side by side; the last line gives the run's own wall and CPU time.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict

import pytest

_CPU_KEY = "suite_times_cpu_s"
_SESSION_KEY = "suite_times_session_cpu_s"
"""User property of a worker's last teardown report: (fixture location, CPU of its teardown)."""
MODULES_SHOWN = 10
"""The modules with the most CPU, listed under the table: where a suite's time goes."""


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def suite_of(nodeid: str) -> str:
    """``tests/drills/test_x.py::test_y`` -> ``drills``; a module directly under tests/ is its own suite."""
    parts = nodeid.split("::", 1)[0].split("/")
    if parts and parts[0] == "tests":
        parts = parts[1:]
    if len(parts) > 1:
        return parts[0]
    return parts[0].removesuffix(".py") if parts else nodeid


class SuiteTimes:
    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.tests: dict[str, int] = defaultdict(int)
        self.module_cpu: dict[str, float] = defaultdict(float)
        self.start_wall = time.monotonic()
        self.start_cpu = _cpu_seconds()
        self._cpu_at_start: dict[str, float] = {}
        self._teardown_mark: float | None = None
        """CPU at the last fixture finalized in the current teardown (None outside a teardown)."""
        self._session_teardowns: list[tuple[str, float]] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self._cpu_at_start[item.nodeid] = _cpu_seconds()
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        self._teardown_mark, self._session_teardowns = _cpu_seconds(), []
        yield
        self._teardown_mark = None

    def pytest_fixture_post_finalizer(self, fixturedef, request) -> None:
        if self._teardown_mark is None:
            return
        now = _cpu_seconds()
        if fixturedef.scope == "session" and now - self._teardown_mark >= 0.01:
            home = fixturedef.baseid.split("::", 1)[0]
            where = home if home.endswith(".py") else f"{home}/conftest.py"  # a test module's own session fixture
            fixture = f"{where}::{fixturedef.argname}" if home else f"plugin fixture {fixturedef.argname}"
            self._session_teardowns.append((fixture, now - self._teardown_mark))
        self._teardown_mark = now

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "teardown":
            spent = _cpu_seconds() - self._cpu_at_start.pop(item.nodeid, _cpu_seconds())
            for fixture, cpu in self._session_teardowns:
                report.user_properties.append((_SESSION_KEY, (fixture, round(cpu, 3))))
                spent -= cpu
            report.user_properties.append((_CPU_KEY, round(spent, 3)))

    def pytest_runtest_logreport(self, report) -> None:
        suite = suite_of(report.nodeid)
        self.wall[suite] += report.duration
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.tests[suite] += 1
        for key, value in report.user_properties:
            if key == _CPU_KEY:
                self.cpu[suite] += value
                self.module_cpu[report.nodeid.split("::", 1)[0]] += value
            elif key == _SESSION_KEY:
                fixture, cpu = value
                self.cpu[suite_of(fixture) if fixture.count("/") > 1 else "session fixtures"] += cpu
                self.module_cpu[fixture + " (teardown)"] += cpu

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.wall:
            return
        write = terminalreporter.write_line
        terminalreporter.section("time per suite")
        write(f"{'suite':<16}{'tests':>7}{'wall s':>10}{'cpu s':>10}")
        suites = self.wall.keys() | self.cpu.keys()
        for suite in sorted(suites, key=lambda name: (self.wall[name], self.cpu[name]), reverse=True):
            write(f"{suite:<16}{self.tests[suite]:>7}{self.wall[suite]:>10.1f}{self.cpu[suite]:>10.1f}")
        total_wall = time.monotonic() - self.start_wall
        total_cpu = _cpu_seconds() - self.start_cpu
        note = f"  ({self.workers} workers: rows add up busy time, this line is the run's)" if self.workers else ""
        write(f"{'run':<16}{sum(self.tests.values()):>7}{total_wall:>10.1f}{total_cpu:>10.1f}{note}")
        busiest = sorted(self.module_cpu.items(), key=lambda item: item[1], reverse=True)[:MODULES_SHOWN]
        if len(self.module_cpu) > 1:
            write("busiest modules (cpu s): " + ", ".join(f"{module} {cpu:.1f}" for module, cpu in busiest))

