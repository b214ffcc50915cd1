"""Every source and destination kind whose provider runs here, through the real engine on the path a user walks
(tests/engine/project.py `UserPath`), against loopback stand-ins: the S3 server behind a TLS front (pgBackRest
talks HTTPS only) and the TrueNAS simulator over TLS. See tests/engine/all_kinds.py for the estate.

B2 is in the pull-request preview of the same estate (stack `allkinds-b2`): a preview only runs the providers'
`check`, which is what broke for new stacks. Its `up` is not run: the B2 provider talks to Backblaze's API through
b2sdk with no endpoint setting, and no B2 stand-in exists that the engine's provider process could reach.
"""

from __future__ import annotations

import contextlib

import boto3
import pytest
from botocore.config import Config

from tests.drills.front import S3Front
from tests.drills.tls import make_certificates
from tests.engine import all_kinds
from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK, B2_STACK = "allkinds", "allkinds-b2"
BUCKETS = {"hlb-nas-s3-tier1", "hlb-far-s3-tier1", "hlb-far-s3-tier2"}
"""What the estate puts on the S3 server (tier 1: PVC and database copies; tier 2: the NAS datasets)."""


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The S3 server (plain, for reading back) behind a TLS front, and the TrueNAS simulator over TLS."""
    workdir = tmp_path_factory.mktemp("all-kinds-servers")
    certs = make_certificates(workdir / "s3-tls")
    pki = make_pki(tmp_path_factory.mktemp("all-kinds-nas-pki"))
    backend = free_port()
    with contextlib.ExitStack() as stack:
        s3_server("start", backend)
        stack.callback(s3_server, "stop", backend)
        front = stack.enter_context(S3Front(backend, certs.cert, certs.key))
        datasets = {"tank": "FILESYSTEM", "tank/documents": "FILESYSTEM", "tank/exports": "FILESYSTEM"}
        nas = stack.enter_context(TrueNASSimulator(datasets=datasets, tls=server_context(pki)))
        yield {"backend": backend, "front": front, "ca": certs.ca, "nas": nas, "nas_ca": pki["ca"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory, servers):
    workdir = tmp_path_factory.mktemp("all-kinds")
    proj = EngineProject(workdir)
    nas = servers["nas"]
    for stack, with_b2 in ((STACK, False), (B2_STACK, True)):
        proj.write_stack(stack, all_kinds.estate(servers["front"].endpoint, f"127.0.0.1:{nas.port}",
                                                 str(servers["nas_ca"]), with_b2=with_b2))
    proj.extra_env = {**all_kinds.ENV, **all_kinds.B2_ENV, "HLB_TRUENAS_API_KEY": nas.api_key,
                      "AWS_CA_BUNDLE": str(servers["ca"])}
    proj.capture = workdir / "wire.jsonl"
    return proj


@pytest.fixture(scope="module")
def b2_preview(project):
    """The pull request that adds the estate with B2: preview of the empty stack with the pack."""
    walk = UserPath(project, B2_STACK)
    project.run("stack", "init", B2_STACK)
    walk.preview_with_pack("preview-empty-b2")
    return walk


@pytest.fixture(scope="module")
def path(project, b2_preview):
    return UserPath(project, STACK).begin()


def _s3(port: int):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="engine-test-key", aws_secret_access_key="engine-test-secret",
                        config=Config(s3={"addressing_style": "path"}))


NAS_ADVISORIES = {("advisory", "dataset-missing-integrity-check", name)
                  for name in ("documents", "exports", "app-db-dump", "vaultwarden-sqlite")}
"""Nothing schedules an integrity check of a NAS dataset's cloud copy (exports land on one) yet: advisory."""


def test_b2_estate_empty_preview_passes_the_pack(b2_preview):
    b2_preview.require("preview-empty-b2")
    assert set(b2_preview.planned("preview-empty-b2")) == {"create"}
    types = b2_preview.planned_types("preview-empty-b2")
    assert types["pulumi-python:dynamic/b2:Bucket"] == 2  # tier 1 and tier 2
    # vaultwarden, app-db and documents write to B2, each with a key and a read-only twin for checks and drills
    assert types["pulumi-python:dynamic/b2:ApplicationKey"] == 6
    assert types["pulumi-python:dynamic/truenas:CloudSyncTask"] == 3
    assert b2_preview.policy_findings("preview-empty-b2") == NAS_ADVISORIES


def test_empty_stack_preview_plans_every_kind(path):
    assert set(path.planned()) == {"create"}, path.planned()
    types = path.planned_types()
    for kind in ("s3compatible:Bucket", "truenas:SnapshotTask", "truenas:CloudCredential", "truenas:CloudSyncTask",
                 "secrets:GeneratedSecret"):
        assert types.get(f"pulumi-python:dynamic/{kind}"), (kind, types)
    assert path.policy_findings() == NAS_ADVISORIES


def test_up_made_the_buckets_the_nas_tasks_and_the_manifests(path, servers):
    names = {b["Name"] for b in _s3(servers["backend"]).list_buckets()["Buckets"]}
    assert names == BUCKETS
    syncs = servers["nas"].rows("cloudsync").values()
    assert sorted(s["path"] for s in syncs) == ["/mnt/tank/documents", "/mnt/tank/exports"]
    rendered = path.project.dir / "rendered"
    text = "\n".join(p.read_text() for p in rendered.rglob("*.yaml"))
    for kind in ("kind: ReplicationSource", "kind: Stanza", "kind: ScheduledBackup", "kind: CronJob"):
        assert kind in text, kind
    assert "pg_dump" in text and "sqlite3" in text
    runbook = path.project.outputs(STACK)["runbook"]
    assert set(runbook["datasets"]) == {"vaultwarden", "grafana", "app-db", "documents", "exports", "app-db-dump",
                                        "vaultwarden-sqlite"}


def test_preview_and_up_after_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_providers_received_the_stored_wire_forms(path):
    only_live, only_stored = path.wire_forms("all-kinds")
    assert not only_live, "forms the engine sends that tests/providers/wire_forms/all-kinds.json lacks:\n" + "\n".join(
        sorted(only_live))
    assert not only_stored, "stored forms the engine no longer sends:\n" + "\n".join(sorted(only_stored))


def test_destroy_refuses_protected_resources_then_removes_the_rest(path, servers):
    destroyed = path.destroy()
    destroyed.check_refusal()
    assert {b["Name"] for b in _s3(servers["backend"]).list_buckets()["Buckets"]} == set()
    for namespace in ("pool.snapshottask", "cloudsync", "cloudsync.credentials"):
        assert servers["nas"].rows(namespace) == {}, namespace
