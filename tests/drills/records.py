"""What each drill measured, for the summary table printed at the end of the test session."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def table(self) -> list[str]:
        header = f"{'drill':<42} {'tool':<24} {'restore s':>9} {'restored MiB':>12} {'files':>6}  note"
        lines = [header, "-" * len(header)]
        for r in self.drills:
            lines.append(f"{r.drill:<42} {r.tool:<24} {r.restore_seconds:>9.2f} {r.restored_bytes / 2**20:>12.2f} "
                         f"{r.files:>6}  {r.note}")
        return lines


RECORDS = Records()
