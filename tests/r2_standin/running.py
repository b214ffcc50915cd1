"""A running R2-mode server for tests: started with scripts/s3-server.sh on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.engine.project import free_port

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"
"""Stand-in Cloudflare account id; the lock API path carries one, the stand-in keys nothing on it."""


def rest_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """R2BucketLock `rules` as the program declares them (Python names) -> the REST body the provider sends."""
    names = {"max_age_seconds": "maxAgeSeconds"}
    result = []
    for rule in rules:
        condition = {names.get(k, k): v for k, v in rule["condition"].items() if v is not None}
        result.append({**{k: v for k, v in rule.items() if k != "condition"}, "condition": condition})
    return result


@dataclass
class RunningR2:
    endpoint: str
    port: int

    def s3(self, **config: Any) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="auto", aws_access_key_id="r2-key",
                            aws_secret_access_key="r2-secret",
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required", **config))

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def put_lock(self, bucket: str, rules: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """PUT the bucket's whole lock configuration through R2's REST shape."""
        return self._call("PUT", f"/client/v4/accounts/{ACCOUNT}/r2/buckets/{bucket}/lock", {"rules": rules})

    def get_lock(self, bucket: str) -> list[dict[str, Any]]:
        status, answer = self._call("GET", f"/client/v4/accounts/{ACCOUNT}/r2/buckets/{bucket}/lock")
        assert status == 200, answer
        return answer["result"]["rules"]

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock forward: objects age without the test sleeping."""
        status, answer = self._call("POST", "/_r2/clock", {"advance_seconds": seconds})
        assert status == 200, answer

    def denials(self) -> int:
        """How many mutations lock rules have refused so far."""
        return self._call("GET", "/_r2/clock")[1]["denials"]

    def refused(self) -> list[tuple[str, str, str]]:
        """Every (operation, bucket, key) lock rules have refused so far, oldest first."""
        return [tuple(r) for r in self._call("GET", "/_r2/clock")[1]["refused"]]


def _script(action: str, port: int) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "s3-server.sh"), action], check=True, timeout=120,
                   env=dict(os.environ, HLB_S3_PORT=str(port), HLB_S3_MODE="r2"), capture_output=True)


@contextlib.contextmanager
def r2_server() -> Iterator[RunningR2]:
    """The loopback S3 server in R2 mode on a free port, stopped afterwards."""
    port = free_port()
    _script("start", port)
    try:
        yield RunningR2(f"http://127.0.0.1:{port}", port)
    finally:
        _script("stop", port)
