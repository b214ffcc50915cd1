"""moto's server as the Wasabi stand-in: IAM (Wasabi's IAM is the AWS IAM API) and S3 in one process on loopback,
with IAM policies enforced on every request after the admin user exists.

moto lets the first INITIAL_NO_AUTH_ACTION_COUNT requests through unauthenticated; the fixture spends exactly those
on creating the admin user (an inline `*` policy and a key, as a Wasabi root or IAM admin key would be), so every
later request, the program's included, is authenticated and authorised against the IAM policies moto holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
from botocore.config import Config

from tests.engine.project import free_port

BOOTSTRAP_REQUESTS = 3
"""create_user, put_user_policy, create_access_key for the admin user."""


@dataclass(frozen=True)
class IamServer:
    endpoint: str
    admin: dict[str, str]
    """{access_key_id, secret_access_key} of the admin user."""

    def client(self, service: str, key: dict[str, str] | None = None):
        key = key or self.admin
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"],
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@contextlib.contextmanager
def iam_server() -> Iterator[IamServer]:
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_REQUESTS))
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto server did not start on {endpoint}") from None
                time.sleep(0.2)
        boot = IamServer(endpoint, {"access_key_id": "bootstrap", "secret_access_key": "bootstrap"}).client("iam")
        boot.create_user(UserName="hlb-admin")
        boot.put_user_policy(UserName="hlb-admin", PolicyName="admin", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = boot.create_access_key(UserName="hlb-admin")["AccessKey"]
        yield IamServer(endpoint, {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]})
    finally:
        process.terminate()
        process.wait(timeout=10)
