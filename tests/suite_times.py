"""Pytest plugin: at the end of the run, the time each suite took, so a slow suite is seen when it grows.

A suite is a top-level package under ``tests/`` (``tests/drills``, ``tests/engine``, ...). Each test's wall time
(setup + call + teardown, so a session server's start-up counts where it is first used) and CPU time (this process
and the children it has waited for: restic, pgBackRest, the engine's CLI runs; not servers that daemonize, such as
scripts/s3-server.sh's) are summed per suite. Under
pytest-xdist the workers measure and the controller adds up, so the sums are busy time, which exceeds the run's
wall time when suites run side by side; the last line gives the run's own wall and CPU time.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict

import pytest

_CPU_KEY = "suite_times_cpu_s"
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

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self._cpu_at_start[item.nodeid] = _cpu_seconds()
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "teardown":
            spent = _cpu_seconds() - self._cpu_at_start.pop(item.nodeid, _cpu_seconds())
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

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.wall:
            return
        write = terminalreporter.write_line
        terminalreporter.section("time per suite")
        write(f"{'suite':<16}{'tests':>7}{'wall s':>10}{'cpu s':>10}")
        for suite in sorted(self.wall, key=self.wall.__getitem__, reverse=True):
            write(f"{suite:<16}{self.tests[suite]:>7}{self.wall[suite]:>10.1f}{self.cpu[suite]:>10.1f}")
        total_wall = time.monotonic() - self.start_wall
        total_cpu = _cpu_seconds() - self.start_cpu
        note = f"  ({self.workers} workers: rows add up busy time, this line is the run's)" if self.workers else ""
        write(f"{'run':<16}{sum(self.tests.values()):>7}{total_wall:>10.1f}{total_cpu:>10.1f}{note}")
        busiest = sorted(self.module_cpu.items(), key=lambda item: item[1], reverse=True)[:MODULES_SHOWN]
        if len(self.module_cpu) > 1:
            write("busiest modules (cpu s): " + ", ".join(f"{module} {cpu:.1f}" for module, cpu in busiest))

