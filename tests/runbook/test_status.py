"""`python -m runbook status` against a Healthchecks Management API stand-in and the loopback S3 server (moto):
late, on-time and never-ran copies, stored size against the plan, JSON, and the exit status."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from runbook.__main__ import main
from tests.engine.project import free_port, s3_server
from tests.runbook.healthchecks_api import HealthchecksApi

NOW = "2026-11-29T12:00:00+00:00"
KEY = "read-only-api-key"


S3_KINDS = ("b2", "r2", "s3", "s3-compatible")


@pytest.fixture(scope="module")
def s3_endpoint(prod_export: tuple[dict[str, Any], set[str]]):
    """The loopback S3 server holding the prod runbook's buckets and vaultwarden's objects, once per module (no
    test writes to it)."""
    port = free_port()
    s3_server("start", port)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s", config=Config(s3={"addressing_style": "path"}))
        for bucket in sorted({c["bucket"] for ds in prod_export[0]["datasets"].values() for c in ds["copies"]
                              if c["kind"] in S3_KINDS}):
            s3.create_bucket(Bucket=bucket)
        # vaultwarden's b2 repository holds 0.6 GB (sparse: moto keeps bytes, so 3 objects of 200 MB would be slow).
        for n in range(3):
            s3.put_object(Bucket="hlb-b2-tier1", Key=f"volsync/security/vaultwarden-data/data/{n}",
                          Body=b"x" * 2_000_000)
        s3.put_object(Bucket="hlb-b2-tier1", Key="volsync/security/vaultwarden-data-other/x", Body=b"y" * 5_000_000)
        yield endpoint
    finally:
        s3_server("stop", port)


@pytest.fixture
def estate(prod_export: tuple[dict[str, Any], set[str]], s3_endpoint: str, tmp_path: Path, monkeypatch):
    """The prod runbook with its object storage on the loopback server, and read keys in the environment."""
    runbook = copy.deepcopy(prod_export[0])
    for ds in runbook["datasets"].values():
        for c in ds["copies"]:
            if c["kind"] in S3_KINDS:
                c["endpoint"] = s3_endpoint
    for dest in ("B2", "R2", "STORJ", "NAS_S3"):
        monkeypatch.setenv(f"HLB_{dest}_ACCESS_KEY_ID", "read-only")
        monkeypatch.setenv(f"HLB_{dest}_SECRET_ACCESS_KEY", "read-only-secret")
    monkeypatch.setenv("HLB_HEALTHCHECKS_API_KEY", KEY)
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps({"runbook": runbook, "cnpg_cluster_plugins": {}, "secrets": "[secret]"}))
    return runbook, source


def _slug(c: dict[str, Any]) -> str:
    return c["healthcheck"]["backup"]


def _all_tier1_on_time(api: HealthchecksApi, runbook: dict[str, Any]) -> None:
    for ds in runbook["datasets"].values():
        if ds["tier"] == 1:
            for c in ds["copies"]:
                api.add(_slug(c), "2026-11-29T09:00:00+00:00")


def _run(source: Path, url: str, capsys, *extra: str) -> tuple[int, str, str]:
    status = main(["status", "--from", str(source), "--healthchecks-url", url, "--now", NOW, *extra])
    out, err = capsys.readouterr()
    return status, out, err


def test_on_time_estate_exits_zero_and_lists_every_copy(estate, capsys):
    runbook, source = estate
    with HealthchecksApi(KEY) as api:
        _all_tier1_on_time(api, runbook)
        status, out, err = _run(source, api.url, capsys, "--json")
    assert status == 0, out + err
    report = json.loads(out)
    assert report["tier1_failing"] == 0
    rows = {(r["dataset"], r["destination"]): r for r in report["copies"]}
    assert len(rows) == sum(len(ds["copies"]) for ds in runbook["datasets"].values())
    vb2 = rows[("vaultwarden", "b2")]
    assert vb2["state"] == "ok" and vb2["age_hours"] == 3.0 and vb2["rpo_target_hours"] == 12
    assert vb2["stored_gb"] == 0.006, "only objects under the copy's own repository prefix count"
    assert vb2["expected_gb"] == 1.0
    assert rows[("vaultwarden", "nas")]["stored_gb"] is None
    assert "not object storage" in rows[("vaultwarden", "nas")]["size_note"]
    # Tier 2 copies without a check are reported, not fatal.
    assert rows[("grafana", "nas")]["state"] == "never-ran"
    assert rows[("grafana", "nas")]["check"] == "no check with slug 'backup-grafana-nas'"
    assert api.requests == [("GET", "/api/v3/checks/")]


def test_a_late_and_a_never_run_tier1_copy_exit_one(estate, capsys):
    runbook, source = estate
    with HealthchecksApi(KEY) as api:
        _all_tier1_on_time(api, runbook)
        late = next(c for c in api.checks if c["slug"] == "backup-vaultwarden-r2")
        late["last_ping"] = "2026-11-28T00:00:00+00:00"  # 36 h before NOW; Tier 1's RPO is 12 h
        api.checks.remove(next(c for c in api.checks if c["slug"] == "backup-immich-db-b2"))
        status, out, err = _run(source, api.url, capsys)
    assert status == 1, out + err
    lines = out.splitlines()
    assert any(line.startswith("vaultwarden  1  r2 (restic)  LATE  36.0 h ago (RPO 12 h)") for line in lines), out
    assert any(line.startswith("immich-db  1  b2 (pgbackrest)  NEVER-RAN  never (RPO 12 h)") for line in lines), out
    ok = "vaultwarden  1  b2 (restic)  OK  3.0 h ago (RPO 12 h)  0.006 GB (1% of the plan's 1 GB)"
    assert ok in lines, out
    assert lines[-1] == "2 Tier 1 copies late or never ran"


def test_a_check_that_is_down_is_late_even_with_a_recent_ping(estate, capsys):
    runbook, source = estate
    with HealthchecksApi(KEY) as api:
        _all_tier1_on_time(api, runbook)
        api.checks[0]["status"] = "down"
        status, out, _ = _run(source, api.url, capsys, "--json")
    assert status == 1
    (bad,) = [r for r in json.loads(out)["copies"] if r["state"] != "ok" and r["tier"] == 1]
    assert bad["check"] == api.checks[0]["slug"]


def test_wrong_api_key_and_missing_key_say_what_to_do(estate, capsys, monkeypatch):
    _, source = estate
    with HealthchecksApi("another-key") as api:
        status, _, err = _run(source, api.url, capsys)
    assert status == 2 and "answered 401: check the API key" in err
    monkeypatch.delenv("HLB_HEALTHCHECKS_API_KEY")
    status, _, err = _run(source, "http://127.0.0.1:9", capsys)
    assert status == 2 and "set HLB_HEALTHCHECKS_API_KEY" in err


def test_a_copy_without_a_read_key_says_which_variables(estate, capsys, monkeypatch):
    runbook, source = estate
    monkeypatch.delenv("HLB_B2_ACCESS_KEY_ID")
    with HealthchecksApi(KEY) as api:
        _all_tier1_on_time(api, runbook)
        _, out, _ = _run(source, api.url, capsys, "--json")
    row = next(r for r in json.loads(out)["copies"] if (r["dataset"], r["destination"]) == ("vaultwarden", "b2"))
    assert row["stored_gb"] is None
    assert row["size_note"] == "not listed: no read key in HLB_B2_ACCESS_KEY_ID / HLB_B2_SECRET_ACCESS_KEY"
