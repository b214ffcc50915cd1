"""`python -m bench [--sizes 10,100,1000] [--engine-sizes 10,100,1000] [--up-sizes 10,100]
[--policy-sizes 250,1000] [--pr-size 100] [--large] [--quick]`

Every figure is a ratio against a baseline measured in the same run (these machines are noisy):
the program under mocks vs the bare SDK registering the same resources; program imports vs `import pulumi`;
real-engine preview and no-change up vs a bare program with the same resources; the policy pack through
`pulumi policy analyze` vs an empty pack on the same deployment; the pull request's preview with the pack vs a
bare program's preview with an empty pack. Commands run as processes also get a CPU-time ratio (all their
processes' CPU), which a shared machine disturbs less than wall time. `--large` adds the 5,000-dataset rows
(program and pack; about half an hour more).
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
    cpu = "-"
    if "cpu_s" in program and "cpu_s" in baseline:
        cpu = round(program["cpu_s"] / baseline["cpu_s"], 2)
    return {"measurement": name, "size": size, "program_s": round(program["seconds"], 2),
            "baseline_s": round(baseline["seconds"], 2), "ratio": round(program["seconds"] / baseline["seconds"], 2),
            "cpu_ratio": cpu, "program_peak_mib": round(program["peak_mib"]),
            "baseline_peak_mib": round(baseline["peak_mib"]), "target": target}


def _growth_row(name: str, sizes: str, ratio: float, target: str) -> dict:
    return {"measurement": name, "size": sizes, "program_s": "-", "baseline_s": "-", "ratio": round(ratio, 2),
            "cpu_ratio": "-", "program_peak_mib": "-", "baseline_peak_mib": "-", "target": target}


def program_rows(sizes: list[int], workdir: Path) -> list[dict]:
    rows = []
    measured = {}
    for size in sizes:
        recording = workdir / f"mocks-{size}.json"
        _measure("record", str(size), str(recording))
        # Measured apart from the recording: the recording keeps every registration request alive (15 MiB of
        # 529 MiB at 250 datasets), memory a program never holds.
        program = _measure("program", str(size))
        baseline = _measure("baseline", str(recording))
        rows.append(_row("program under mocks", str(size), program, baseline,
                         "<= 1.3, peak <= 1.2 at 1000" if size == 1000 else ""))
        measured[size] = program
    for small, large in ((100, 1000), (1000, 5000)):
        if small in measured and large in measured:
            time_growth = (measured[large]["seconds"] / large) / (measured[small]["seconds"] / small)
            rows.append(_growth_row("program time per dataset", f"{small} -> {large}", time_growth, "<= 1.5 (linear)"))
            memory_growth = (measured[large]["peak_mib"] / large) / (measured[small]["peak_mib"] / small)
            rows.append(_growth_row("program peak memory per dataset", f"{small} -> {large}", memory_growth,
                                    "<= 1.5 (linear)"))
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


def policy_rows(sizes: list[int], workdir: Path) -> list[dict]:
    from bench.policy import measure_policies

    measured = measure_policies(sizes, workdir / "policies")
    rows = [_row("policy analyze", str(size), measured[size]["pack"], measured[size]["empty"],
                 "<= 1.5 at 1000" if size == 1000 else "") for size in sizes]
    # Through the engine the pack's own time is within the noise of the engine's, so linearity is read in-process.
    result = subprocess.run([sys.executable, "-m", "bench.pack_scaling", ",".join(map(str, sizes))], cwd=ROOT,
                            capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    per_dataset = {m["datasets"]: m["ms_per_dataset"] for m in map(json.loads, result.stdout.splitlines())}
    smallest = min(sizes)
    for size in sizes:
        if size != smallest:
            rows.append(_growth_row("pack CPU per dataset, in-process", f"{smallest} -> {size}",
                                    per_dataset[size] / per_dataset[smallest], "<= 1.5 (linear)"))
    return rows


def pull_request_rows(size: int, workdir: Path) -> list[dict]:
    from bench.pull_request import measure_pull_request

    measured = measure_pull_request(size, workdir / "pull-request")
    return [_row("pull request: preview with the pack (every kind)", str(size), measured["program"],
                 measured["bare"], "<= 1.3")]


def table(rows: list[dict]) -> str:
    columns = ["measurement", "size", "program_s", "baseline_s", "ratio", "cpu_ratio", "program_peak_mib",
               "baseline_peak_mib", "target"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--engine-sizes", default="10,100,1000")
    parser.add_argument("--up-sizes", default="10,100")
    parser.add_argument("--policy-sizes", default="250,1000")
    parser.add_argument("--pr-size", type=int, default=100, help="datasets in the pull-request row (0: skip it)")
    parser.add_argument("--large", action="store_true", help="add 5,000 datasets to the program and pack rows")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.engine_sizes, args.up_sizes = "10,100", "10", "10"
        args.policy_sizes, args.pr_size = "25,100", min(args.pr_size, 14)
    if args.large:
        args.sizes += ",5000"
        args.policy_sizes += ",5000"
    sizes = [int(s) for s in args.sizes.split(",") if s]
    engine_sizes = [int(s) for s in args.engine_sizes.split(",") if s]
    up_sizes = [int(s) for s in args.up_sizes.split(",") if s]
    policy_sizes = [int(s) for s in args.policy_sizes.split(",") if s]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}", flush=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="hlb-bench-") as tmp:
        workdir = Path(tmp)
        steps = [lambda: program_rows(sizes, workdir), import_rows]
        if engine_sizes:
            steps.append(lambda: engine_rows(engine_sizes, up_sizes, workdir))
        if policy_sizes:
            steps.append(lambda: policy_rows(policy_sizes, workdir))
        if args.pr_size:
            steps.append(lambda: pull_request_rows(args.pr_size, workdir))
        for step in steps:
            new = step()
            rows += new
            print(table(new).split("\n", 2)[2], file=sys.stderr, flush=True)  # progress, row by row
    print(table(rows))


if __name__ == "__main__":
    main()
