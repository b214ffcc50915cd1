#!/usr/bin/env bash
# Install everything the project needs: the Python venv (pinned requirements) and the engine toolchain.
# Idempotent and cached: a second run takes seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
# One stamp per requirements file installed, so checkouts sharing a venv (worktrees) do not undo each other's.
stamp=".venv/.requirements-$want"
[ -x .venv/bin/python ] || python3 -m venv .venv
if [ ! -e "$stamp" ] && [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing Python requirements into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch "$stamp"
fi
bash scripts/toolchain.sh
