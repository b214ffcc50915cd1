"""Throwaway MariaDB and Redis servers on loopback (Debian packages mariadb-server and redis-server), each in its
own temporary data directory, for the export drills. Started by the drill's session fixtures, stopped at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.engine.project import free_port


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        raise FileNotFoundError(f"{name} is missing: run `bash scripts/services.sh install` (Debian {package})")
    return found


def _wait(probe: list[str], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not start within {timeout} s:\n{log.read_text()[-3000:] if log.exists() else ''}")


class MariaDb:
    """One mariadbd with a fresh data directory under `base`, listening on 127.0.0.1 only."""

    def __init__(self, base: Path, name: str) -> None:
        self.base = base / name
        self.port = free_port()
        self.data = self.base / "data"
        self.socket = self.base / "mysqld.sock"
        self.log = self.base / "error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _user(self) -> list[str]:
        # mariadbd refuses root unless told; the data directory is ours either way.
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self) -> MariaDb:
        self.base.mkdir(parents=True)
        install = _tool("mariadb-install-db", "mariadb-server")
        subprocess.run([install, "--no-defaults", f"--datadir={self.data}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *self._user()], capture_output=True, check=True, timeout=180)
        self.process = subprocess.Popen(
            [_tool("mariadbd", "mariadb-server"), "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.socket}", f"--pid-file={self.base / 'mysqld.pid'}",
             f"--log-error={self.log}", "--skip-name-resolve", "--innodb-buffer-pool-size=32M", *self._user()],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.client("root", "", "-e", "select 1"), f"mariadbd on port {self.port}", self.log)
        return self

    def client(self, user: str, password: str, *args: str) -> list[str]:
        return [_tool("mariadb", "mariadb-client"), "--no-defaults", "--protocol=tcp", "--host=127.0.0.1",
                f"--port={self.port}", f"--user={user}", f"--password={password}", *args]

    def sql(self, statement: str, database: str = "") -> str:
        result = subprocess.run(self.client("root", "", "--batch", "--skip-column-names",
                                            *([database] if database else []), "-e", statement),
                                capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"{statement!r} failed: {result.stderr}")
        return result.stdout.strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Redis:
    """One redis-server with its data directory under `base`, on 127.0.0.1 only, password required."""

    def __init__(self, base: Path, name: str, password: str, rdb: Path | None = None) -> None:
        self.base = base / name
        self.port = free_port()
        self.password = password
        self.rdb = rdb
        self.log = self.base / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Redis:
        self.base.mkdir(parents=True)
        if self.rdb is not None:
            shutil.copy(self.rdb, self.base / "dump.rdb")
        self.process = subprocess.Popen(
            [_tool("redis-server", "redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
             str(self.base), "--dbfilename", "dump.rdb", "--requirepass", self.password, "--save", "",
             "--appendonly", "no", "--logfile", str(self.log), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.cli("PING"), f"redis-server on port {self.port}", self.log)
        return self

    def cli(self, *args: str) -> list[str]:
        return [_tool("redis-cli", "redis-tools"), "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning",
                "-a", self.password, *args]

    def call(self, *args: str) -> str:
        result = subprocess.run(self.cli(*args), capture_output=True, text=True, check=True, timeout=60)
        return result.stdout.strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
