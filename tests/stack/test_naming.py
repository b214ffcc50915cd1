"""Where credentials are looked for: `HLB_*` names, the same for the program and the offline runbook CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack.naming import NAS_CREDENTIAL, PING_KEY_CREDENTIAL, env_prefix, identity_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("destination", "prefix"), [("b2", "HLB_B2_"), ("storj-gw", "HLB_STORJ_GW_"),
                                                     ("nas-s3", "HLB_NAS_S3_")])
def test_env_prefix_upper_cases_and_turns_dashes_into_underscores(destination: str, prefix: str) -> None:
    assert env_prefix(destination) == prefix


def test_a_supplied_key_is_named_by_destination_role_writer_and_field() -> None:
    assert identity_env("storj", "writer", "photos-cloudsync", "access_key_id") == \
        "HLB_STORJ_WRITER_PHOTOS_CLOUDSYNC_ACCESS_KEY_ID"
    assert identity_env("nas-s3", "reader", "grafana-pgbackrest", "secret_access_key") == \
        "HLB_NAS_S3_READER_GRAFANA_PGBACKREST_SECRET_ACCESS_KEY"


def test_the_nas_and_ping_keys_come_from_the_variables_the_readme_names() -> None:
    assert [env_prefix(entry) + field.upper() for entry, fields in (NAS_CREDENTIAL, PING_KEY_CREDENTIAL)
            for field in fields] == ["HLB_TRUENAS_API_KEY", "HLB_HEALTHCHECKS_PING_KEY"]


def test_importing_the_names_loads_no_pulumi() -> None:
    code = ("import sys, stack.naming; "
            "print([m for m in sys.modules if m.split('.')[0] == 'pulumi' or m.startswith('pulumi_')])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.strip() == "[]"
