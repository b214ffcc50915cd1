"""The commands an operator is told to run: `make demo`'s follow-ups work as printed (in a fresh shell that has
only what they source), and the nightly drift check (scripts/drift.sh) passes on a matching stack and fails on drift.

A demo-like run (the local stack up through scripts/local-env.sh, as scripts/demo.sh does) in an isolated copy,
then every `source ...; pulumi ...` line of demo.sh's closing message, run verbatim in a new shell whose
environment has no passphrase and no loopback keys.
"""

from __future__ import annotations

import json
import re
import subprocess

import boto3
import pytest
from botocore.config import Config

from tests.engine.project import ROOT, EngineProject, free_port, s3_server

pytestmark = [pytest.mark.engine, pytest.mark.slow]

LOCAL_ONLY = ("PULUMI_CONFIG_PASSPHRASE", "HLB_LOCAL_S3_ACCESS_KEY_ID", "HLB_LOCAL_S3_SECRET_ACCESS_KEY")


def printed_commands() -> dict[str, str]:
    """The follow-up commands of demo.sh's closing message, by their label."""
    text = (ROOT / "scripts" / "demo.sh").read_text()
    message = text.split("cat <<MSG", 1)[1].split("\nMSG", 1)[0]
    commands = {}
    for line in message.splitlines():
        label, sep, rest = line.partition(":")
        if sep and rest.strip().startswith("source "):
            commands[label.strip()] = re.split(r"\s{3,}", rest.strip())[0]  # drop the trailing remark
    return commands


def test_the_closing_message_names_the_commands_this_test_runs():
    assert set(printed_commands()) == {"Read them again", "Tear down"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    port = free_port()
    s3_server("start", port)
    proj = EngineProject(tmp_path_factory.mktemp("demo"), s3_port=port)
    (proj.dir / ".toolchain").symlink_to(ROOT / ".toolchain")  # what scripts/bootstrap.sh leaves in a clone
    env = {k: v for k, v in proj.env().items() if k not in LOCAL_ONLY}
    proj.shell_env = env

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", f'cd "{proj.dir}" && {command}'], env=env, capture_output=True,
                              text=True, timeout=600)

    proj.shell = shell
    up = shell("source scripts/local-env.sh && pulumi stack select local --create >/dev/null"
               " && pulumi up --stack local --yes --skip-preview")
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield proj
    finally:
        s3_server("stop", port)


def test_the_shell_running_the_commands_has_no_passphrase_of_its_own(demo):
    assert not set(LOCAL_ONLY) & set(demo.shell_env)
    bare = demo.shell("source scripts/env.sh && pulumi stack output --stack local --show-secrets --json")
    assert bare.returncode != 0, "env.sh alone must not know the demo passphrase (it serves every stack)"
    assert "passphrase" in (bare.stdout + bare.stderr).lower()


def test_read_them_again_prints_the_runbook_outputs(demo):
    result = demo.shell(printed_commands()["Read them again"])
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = json.loads(result.stdout)
    assert outputs["runbook"]["datasets"]["vaultwarden"]["tier"] == 1


def test_drift_check_passes_on_a_stack_that_matches(demo):
    result = demo.shell("source scripts/local-env.sh && bash scripts/drift.sh local")
    assert result.returncode == 0, result.stdout + result.stderr


def test_drift_check_fails_when_a_bucket_was_changed_behind_pulumis_back(demo):
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{demo.s3_port}", region_name="us-east-1",
                      aws_access_key_id="k", aws_secret_access_key="s", config=Config(s3={"addressing_style": "path"}))
    s3.put_bucket_versioning(Bucket="hlb-local-s3-tier1", VersioningConfiguration={"Status": "Suspended"})
    result = demo.shell("source scripts/local-env.sh && bash scripts/drift.sh local")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "drift: resources of stack local differ from its state" in output
    # The check only looked: the state still records what the program wants, so `up` would put it back.
    state = demo.shell("source scripts/local-env.sh && pulumi stack export --stack local")
    assert '"versioning": "Suspended"' not in state.stdout and "Suspended" not in state.stdout


# Last: the refused destroy still removes the unprotected resources.
def test_tear_down_runs_and_stops_only_at_the_protected_buckets(demo):
    # Printed for a person at a terminal; the engine asks for confirmation, which a test gives with --yes.
    result = demo.shell(printed_commands()["Tear down"] + " --yes --skip-preview")
    output = result.stdout + result.stderr
    assert "passphrase" not in output.lower(), output
    assert result.returncode != 0 and "protected" in output, output
