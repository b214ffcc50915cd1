"""One real Kubernetes API server for the whole test session (see apiserver.py), stopped at the end.

Without kube-apiserver or etcd the tests are skipped locally with the command that installs them; in CI
(`CI=true`) that is a failure, because `scripts/test.sh` installs both.
"""

from __future__ import annotations

import os

import pytest

from tests.kubernetes import apiserver as api


@pytest.fixture(scope="session")
def kube(tmp_path_factory) -> api.ApiServer:
    try:
        api.binaries()
    except api.ApiServerMissing as missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the Kubernetes API server tests: {missing}")
        pytest.skip(str(missing))
    server = api.start(tmp_path_factory.mktemp("kube-apiserver"))
    try:
        server.install_crds(api.crd_files())
        yield server
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.kubernetes.objects import TALLY

    if TALLY:
        terminalreporter.section("server-side dry-run applies (real kube-apiserver)")
        for estate, (accepted, rejected) in TALLY.items():
            terminalreporter.write_line(f"{estate}: {accepted} accepted, {rejected} rejected")
