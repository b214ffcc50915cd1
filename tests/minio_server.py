"""A real MinIO server on loopback, built from Go modules by scripts/minio.sh, with TLS from a throwaway CA.

Started on free ports in a temporary directory and stopped (and its data removed with the directory) when the
context ends. Tests that need it skip, with the reason, only when the build script itself cannot run (no Go).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from tests.drills.tls import Certificates, make_certificates
from tests.engine.project import free_port

ROOT = Path(__file__).resolve().parents[1]
ROOT_USER, ROOT_PASSWORD = "hlb-minio-root", "hlb-minio-root-secret"
START_TIMEOUT = 60


@dataclass(frozen=True)
class MinioServer:
    endpoint: str
    """https://127.0.0.1:<port>"""
    certificates: Certificates
    root: dict[str, str]
    """The admin (root) key pair, in the shape the program passes around."""

    def s3(self, creds: dict[str, str]):
        """A boto3 S3 client for the given key pair that trusts the server's private CA."""
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", verify=str(self.certificates.ca),
            aws_access_key_id=creds["access_key_id"], aws_secret_access_key=creds["secret_access_key"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))


def minio_binary() -> str:
    """The cached MinIO build (building it on the first run: see scripts/minio.sh for the timings)."""
    if shutil.which("go") is None and not (ROOT / ".toolchain" / "bin" / "minio").exists():
        raise FileNotFoundError("Go is not installed, so scripts/minio.sh cannot build MinIO")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "minio.sh")], check=True, capture_output=True,
                          text=True, timeout=3600)
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def minio_server(workdir: Path) -> Iterator[MinioServer]:
    """Run MinIO with TLS on a free loopback port until the context ends."""
    binary = minio_binary()
    certs = make_certificates(workdir / "tls")
    certs_dir = workdir / "certs"
    certs_dir.mkdir()
    shutil.copy(certs.cert, certs_dir / "public.crt")
    shutil.copy(certs.key, certs_dir / "private.key")
    data = workdir / "data"
    data.mkdir()
    port, console = free_port(), free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
           "MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": ROOT_PASSWORD,
           "MINIO_BROWSER": "off", "MINIO_UPDATE": "off", "MINIO_CI_CD": "1"}
    log = (workdir / "minio.log").open("wb")
    process = subprocess.Popen(
        [binary, "server", "--quiet", "--address", f"127.0.0.1:{port}", "--console-address", f"127.0.0.1:{console}",
         "--certs-dir", str(certs_dir), str(data)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"https://127.0.0.1:{port}"
    try:
        _wait_ready(endpoint, certs.ca, process, workdir / "minio.log")
        yield MinioServer(endpoint, certs, {"access_key_id": ROOT_USER, "secret_access_key": ROOT_PASSWORD})
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_ready(endpoint: str, ca: Path, process: subprocess.Popen, log: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MinIO exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{endpoint}/minio/health/ready", context=context, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"MinIO did not become ready within {START_TIMEOUT}s: {log.read_text()[-2000:]}")
