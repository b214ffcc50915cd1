"""What each drill measured, for the summary table printed at the end of the test session."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DrillRecord:
    drill: str
    tool: str
    restore_seconds: float
    restored_bytes: int
    files: int
    note: str = ""


@dataclass
class Records:
    drills: list[DrillRecord] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    lock_runs: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    """R2 lock drill rows: (tool, lock design, step, outcome, first notable line of the tool's output)."""

    def add_lock_run(self, run: Any, summary: str) -> None:
        """Record every step of one tool's life under one R2 lock design (a tests.drills.r2.DrillRun)."""
        for step in run.steps:
            self.lock_runs.append((run.tool, run.design, step.name, step.outcome, step.detail))
        self.lock_runs.append((run.tool, run.design, "result", summary, ""))

    def lock_table(self) -> list[str]:
        header = f"{'tool':<10} {'R2 lock design':<27} {'step':<41} {'outcome':<30} what happened"
        lines = [header, "-" * len(header)]
        for tool, design, step, outcome, detail in self.lock_runs:
            lines.append(f"{tool:<10} {design:<27} {step:<41} {outcome:<30} {detail[:150]}")
        return lines

    def to_wire(self) -> dict[str, list[Any]]:
        """Plain lists a pytest-xdist worker can send to the controller, which prints the summary."""
        return {"drills": [dataclasses.astuple(r) for r in self.drills], "findings": list(self.findings),
                "lock_runs": [list(r) for r in self.lock_runs]}

    def merge(self, wire: dict[str, list[Any]]) -> None:
        self.drills += [DrillRecord(*r) for r in wire["drills"]]
        self.findings += wire["findings"]
        self.lock_runs += [tuple(r) for r in wire["lock_runs"]]

    def summary(self) -> list[str]:
        """The "restore drills" section printed at the end of the session; empty when no drill ran."""
        if not self.drills and not self.findings and not self.lock_runs:
            return []
        lines = self.table() if self.drills else []
        if self.lock_runs:
            lines += ["", "R2 lock drill (loopback server in R2 mode; the Tier 1 R2 copy's settings):"]
            lines += self.lock_table()
        return lines + [f"finding: {finding}" for finding in self.findings]

    def table(self) -> list[str]:
        header = f"{'drill':<42} {'tool':<24} {'restore s':>9} {'restored MiB':>12} {'files':>6}  note"
        lines = [header, "-" * len(header)]
        for r in self.drills:
            lines.append(f"{r.drill:<42} {r.tool:<24} {r.restore_seconds:>9.2f} {r.restored_bytes / 2**20:>12.2f} "
                         f"{r.files:>6}  {r.note}")
        return lines


RECORDS = Records()
