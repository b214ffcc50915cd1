"""`python -m bench [--sizes 10,100,1000] [--engine-sizes 10,100,1000] [--up-sizes 10,100] [--quick]`

Every figure is a ratio against a baseline measured in the same run (these machines are noisy):
the program under mocks vs the bare SDK registering the same resources; program imports vs `import pulumi`;
real-engine preview and no-change up vs a bare program with the same resources; the policy pack through
`pulumi policy analyze` vs an empty pack on the same deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _measure(*args: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run([sys.executable, "-m", "bench.measure", *args], cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})), timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _row(name: str, size: str, program: dict, baseline: dict, target: str = "") -> dict:
    return {"measurement": name, "size": size, "program_s": round(program["seconds"], 2),
            "baseline_s": round(baseline["seconds"], 2), "ratio": round(program["seconds"] / baseline["seconds"], 2),
            "program_peak_mib": round(program["peak_mib"]), "baseline_peak_mib": round(baseline["peak_mib"]),
            "target": target}


def program_rows(sizes: list[int], workdir: Path) -> list[dict]:
    rows = []
    per_dataset = {}
    for size in sizes:
        recording = workdir / f"mocks-{size}.json"
        program = _measure("record", str(size), str(recording))
        baseline = _measure("baseline", str(recording))
        rows.append(_row("program under mocks", str(size), program, baseline, "<= 1.3 at 1000"))
        per_dataset[size] = program["seconds"] / size
    if 100 in per_dataset and 1000 in per_dataset:
        growth = per_dataset[1000] / per_dataset[100]
        rows.append({"measurement": "time per dataset, 1000 vs 100", "size": "-", "program_s": "-", "baseline_s": "-",
                     "ratio": round(growth, 2), "program_peak_mib": "-", "baseline_peak_mib": "-",
                     "target": "<= 1.5 (linear)"})
    return rows


def import_rows() -> list[dict]:
    program = min((_measure("imports", "program") for _ in range(3)), key=lambda m: m["seconds"])
    baseline = min((_measure("imports", "pulumi") for _ in range(3)), key=lambda m: m["seconds"])
    return [_row("start-up imports (best of 3)", "-", program, baseline)]


def engine_rows(sizes: list[int], up_sizes: list[int], workdir: Path) -> list[dict]:
    from bench.engine import measure_engine

    rows = []
    for size in sizes:
        measured = measure_engine(size, workdir / f"engine-{size}", with_up=size in up_sizes)
        rows.append(_row("engine preview", str(size), measured["preview/program"], measured["preview/bare"]))
        if size in up_sizes:
            rows.append(_row("engine up, no changes", str(size), measured["up-no-change/program"],
                             measured["up-no-change/bare"]))
    return rows


def policy_rows(size: int, workdir: Path) -> list[dict]:
    from bench.policy import measure_policies

    measured = measure_policies(size, workdir / "policies")
    return [_row("policy analyze", str(size), measured["pack"], measured["empty"], "O(n log n): see scaling row"),
            {"measurement": "policy time per dataset, 4x size", "size": f"{size // 4} -> {size}", "program_s": "-",
             "baseline_s": "-", "ratio": measured["scaling"], "program_peak_mib": "-", "baseline_peak_mib": "-",
             "target": "<= 1.5 (not quadratic)"}]


def table(rows: list[dict]) -> str:
    columns = ["measurement", "size", "program_s", "baseline_s", "ratio", "program_peak_mib", "baseline_peak_mib",
               "target"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--engine-sizes", default="10,100,1000")
    parser.add_argument("--up-sizes", default="10,100")
    parser.add_argument("--policy-size", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.engine_sizes, args.up_sizes = "10,100", "10", "10"
        args.policy_size = min(args.policy_size, 100)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    engine_sizes = [int(s) for s in args.engine_sizes.split(",") if s]
    up_sizes = [int(s) for s in args.up_sizes.split(",") if s]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}", flush=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="hlb-bench-") as tmp:
        workdir = Path(tmp)
        steps = [lambda: program_rows(sizes, workdir), import_rows]
        if engine_sizes:
            steps.append(lambda: engine_rows(engine_sizes, up_sizes, workdir))
        if args.policy_size:
            steps.append(lambda: policy_rows(args.policy_size, workdir))
        for step in steps:
            new = step()
            rows += new
            print(table(new).split("\n", 2)[2], file=sys.stderr, flush=True)  # progress, row by row
    print(table(rows))


if __name__ == "__main__":
    main()
