"""`python -m runbook generate|drill`: runbooks and restore drills from the stack outputs.

  generate [--stack S] [--from outputs.json] [--out DIR] [--show-secrets] [--project-dir DIR]
      Markdown: README.md (the estate) and <dataset>.md (its restore runbook). Secret values only with
      --show-secrets (the files are then written readable by you alone).
  drill --dataset NAME [--stack S] [--from outputs.json] [--destination D] [--scratch DIR] [--project-dir DIR]
      Restores the newest restic snapshot of one copy into a scratch directory, read-only on the repository;
      exit status 0 = passed, 1 = failed, 2 = could not start (bad arguments or outputs).
  status [--stack S] [--from outputs.json] [--healthchecks-url URL] [--json]
      Per dataset and copy: last success (Healthchecks API, key in HLB_HEALTHCHECKS_API_KEY) against the RPO and
      stored size (read-only object listing) against the plan; exit 1 when a Tier 1 copy is late or never ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from runbook.drill import DEFAULT_SUBSET, DrillError, DrillUsageError, run_drill
from runbook.outputs import OutputsError, read_outputs, secrets_shown, validate
from runbook.render import render
from runbook.status import StatusError, as_json, as_text, estate_status, failing, fetch_checks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m runbook", description="Runbooks and restore drills from "
                                     "the homelab-backups stack outputs.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write Markdown runbooks")
    gen.add_argument("--stack", help="read `pulumi stack output` of this stack (default: the selected one)")
    gen.add_argument("--from", dest="source", type=Path, help="read outputs from this JSON file instead")
    gen.add_argument("--project-dir", type=Path, help="the Pulumi project (default: the current directory)")
    gen.add_argument("--out", type=Path, default=Path("runbooks"), help="output directory (default: runbooks)")
    gen.add_argument("--show-secrets", action="store_true", help="put repository secrets into the runbooks")
    drill = sub.add_parser("drill", help="restore the newest snapshot of a dataset into a scratch directory")
    drill.add_argument("--dataset", required=True)
    drill.add_argument("--stack")
    drill.add_argument("--from", dest="source", type=Path, help="outputs JSON written with --show-secrets")
    drill.add_argument("--project-dir", type=Path, help="the Pulumi project (default: the current directory)")
    drill.add_argument("--destination", help="which copy (default: the first restic copy in object storage)")
    drill.add_argument("--scratch", type=Path, help="keep the restored files here (default: a temporary directory)")
    drill.add_argument("--read-data-subset", default=DEFAULT_SUBSET, help="share of data restic check reads back")
    drill.add_argument("--nfs-root", type=Path, help="where the NAS export of an NFS copy is mounted")
    status = sub.add_parser("status", help="last success and stored size of every copy against the plan")
    status.add_argument("--stack")
    status.add_argument("--from", dest="source", type=Path, help="read outputs from this JSON file instead")
    status.add_argument("--project-dir", type=Path, help="the Pulumi project (default: the current directory)")
    status.add_argument("--healthchecks-url", default="https://healthchecks.io",
                        help="the Healthchecks instance (default: https://healthchecks.io)")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.add_argument("--now", help=argparse.SUPPRESS)  # tests: an ISO time instead of the clock
    return parser


def write_private(path: Path, data: bytes, mode: int) -> None:
    """Write a file that never exists with looser permissions than `mode`, even for an instant: created with
    them (no umask widening), an existing file is replaced rather than rewritten in place."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; never widened
        os.write(fd, data)
    finally:
        os.close(fd)


def _generate(args: argparse.Namespace) -> int:
    outputs = read_outputs(args.stack, args.source, show_secrets=args.show_secrets, project_dir=args.project_dir)
    validate(outputs)
    if args.show_secrets and not secrets_shown(outputs):
        raise OutputsError("--show-secrets was given but these outputs hold no secret values (read them with "
                           "`pulumi stack output --show-secrets --json`)")
    files = render(outputs, args.stack, show_secrets=args.show_secrets)
    args.out.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if args.show_secrets else 0o644
    for name, text in files.items():
        write_private(args.out / name, text.encode(), mode)
    print(f"wrote {len(files)} runbooks to {args.out}" + (" (with secrets: keep them private)"
                                                          if args.show_secrets else ""))
    return 0


def _drill(args: argparse.Namespace) -> int:
    outputs = read_outputs(args.stack, args.source, show_secrets=True, project_dir=args.project_dir)
    validate(outputs)
    try:
        report = run_drill(outputs, args.dataset, args.destination, args.scratch, args.read_data_subset,
                           nfs_root=args.nfs_root, log=lambda m: print(m, file=sys.stderr))
    except DrillUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DrillError as exc:
        print(f"restore drill FAILED: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    if args.scratch is not None:
        print(f"restored files: {report.target}")
    return 0


def _status(args: argparse.Namespace) -> int:
    outputs = read_outputs(args.stack, args.source, show_secrets=False, project_dir=args.project_dir)
    validate(outputs)
    api_key = os.environ.get("HLB_HEALTHCHECKS_API_KEY", "")
    if not api_key:
        print("error: set HLB_HEALTHCHECKS_API_KEY to a Healthchecks API key of the project (a read-only key is "
              "enough: Project Settings > API Access)", file=sys.stderr)
        return 2
    now = dt.datetime.fromisoformat(args.now) if args.now else dt.datetime.now(dt.UTC)
    try:
        checks = fetch_checks(args.healthchecks_url, api_key)
    except StatusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = estate_status(outputs["runbook"], checks, now)
    print(as_json(rows, now) if args.json else as_text(rows), end="" if not args.json else "\n")
    return 1 if failing(rows) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"generate": _generate, "drill": _drill, "status": _status}
    try:
        return commands[args.command](args)
    except OutputsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
