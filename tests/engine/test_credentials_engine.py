"""`preview` and `up` with a missing credential stop before anything is registered: the state stays empty."""

from __future__ import annotations

import json

import pytest

from tests.engine.project import EngineProject

pytestmark = [pytest.mark.engine, pytest.mark.slow]

MISSING = {"HLB_LOCAL_S3_ACCESS_KEY_ID": "", "HLB_LOCAL_S3_SECRET_ACCESS_KEY": ""}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    proj = EngineProject(tmp_path_factory.mktemp("missing-credentials"))
    proj.extra_env = dict(MISSING)
    proj.run("stack", "init", "local")
    return proj


def _resources(project: EngineProject) -> list[dict]:
    exported = json.loads(project.run("stack", "export", "--stack", "local").stdout)
    return exported["deployment"].get("resources") or []


@pytest.mark.parametrize("command", [("preview",), ("up", "--yes", "--skip-preview")])
def test_missing_credential_stops_before_the_first_resource(project, command):
    result = project.run(*command, "--stack", "local", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "1 credential(s) missing; nothing was changed" in output, output
    assert ("'local-s3' has no ['access_key_id', 'secret_access_key']: run pulumi config set --secret --path "
            "'credentials.local-s3.access_key_id' ...") in output, output
    assert "Traceback" not in output, output
    registered = [r["type"] for r in _resources(project) if r["type"] != "pulumi:pulumi:Stack"]
    assert registered == [], registered
