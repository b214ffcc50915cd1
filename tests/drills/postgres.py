"""A throwaway PostgreSQL cluster on loopback, run as an unprivileged user (postgres refuses to run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

PG_USER = "postgres"


def pg_bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them outside PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("no PostgreSQL server found; run `bash scripts/services.sh install`")
    return Path(initdb).parent


def as_pg_user(command: list[str]) -> list[str]:
    """Root hands the command to the postgres user; anyone else runs it as themselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *command]
    return command


def give_to_pg_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, PG_USER, PG_USER)


def run(command: list[str], timeout: int = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(as_pg_user(command), capture_output=True, text=True, timeout=timeout, check=False,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"})
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class PgCluster:
    """One data directory and its server; sockets and logs stay inside `base`."""

    def __init__(self, base: Path, name: str, port: int) -> None:
        self.base, self.port = base, port
        self.data = base / name
        self.log = base / f"{name}.log"
        self.bin = pg_bindir()

    def initdb(self, settings: dict[str, str]) -> None:
        run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", PG_USER, "--no-sync"])
        self.configure(settings)

    def configure(self, settings: dict[str, str]) -> None:
        """Append settings (later lines win), as the postgres user so file ownership stays right."""
        lines = "".join(f"{k} = {v}\n" for k, v in settings.items())
        run(["sh", "-c", f"cat >> '{self.data}/postgresql.conf' <<'EOF'\n{lines}EOF"])

    def start(self) -> None:
        settings = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", settings, "-w", "-t", "60",
             "start"])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def sql(self, statement: str) -> str:
        """Run SQL through psql and return the unaligned, tuples-only result."""
        result = run([str(self.bin / "psql"), "-h", str(self.base), "-p", str(self.port), "-U", PG_USER, "-d",
                      "postgres", "-v", "ON_ERROR_STOP=1", "-Atqc", statement])
        return result.stdout.strip()

    def wait_until(self, statement: str, expected: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            result = run([str(self.bin / "psql"), "-h", str(self.base), "-p", str(self.port), "-U", PG_USER, "-d",
                          "postgres", "-Atqc", statement], check=False)
            last = result.stdout.strip() or result.stderr.strip()
            if result.returncode == 0 and last == expected:
                return
            time.sleep(0.2)
        raise AssertionError(f"{statement!r} did not return {expected!r} within {timeout} s (last: {last!r})")
