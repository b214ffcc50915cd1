"""The local stack escrowing into 1Password through the real engine, against the Connect stand-in on loopback.

The dynamic provider runs in the engine's provider host, with the Connect token as a Pulumi secret from the
environment (`HLB_ONEPASSWORD_TOKEN`), and reaches the stand-in (tests/onepassword_standin) over HTTP on
127.0.0.1. The walk is the user's (`UserPath`): the pull request's preview of the empty stack with the pack, `up`,
a preview and an `up` without changes, a rotated ping key, and destroy. Every rendered ExternalSecret is resolved as
the External Secrets onepassword provider does (item title = remoteRef.key, field label = property).
"""

from __future__ import annotations

import json

import pytest
import yaml
from onepasswordconnectsdk.client import Client

from tests.engine.project import EngineProject, UserPath, free_port, s3_server
from tests.eso_reads import NotResolved, onepassword_reader, resolve
from tests.onepassword_standin import serving

pytestmark = [pytest.mark.engine, pytest.mark.slow]

STACK = "local"
TOKEN = "connect-token-engine-never-shown_0123456789"
PING_KEY = "onepassword-ping-key-never-shared_0123"
ROTATED_PING_KEY = "onepassword-ping-key-rotated-never-shared_4567"


@pytest.fixture(scope="module")
def connect():
    with serving(TOKEN) as served:
        yield served


@pytest.fixture(scope="module")
def path(connect, tmp_path_factory):
    server, _ = connect
    port = free_port()
    s3_server("start", port)
    try:
        project = EngineProject(tmp_path_factory.mktemp("onepassword-stack"), s3_port=port)
        stack = project.dir / f"Pulumi.{STACK}.yaml"
        config = yaml.safe_load(stack.read_text())
        config["config"]["homelab-backups:monitoring"] = {"healthchecks": {"ping_base": "https://hc-ping.com/"}}
        config["config"]["homelab-backups:secret_store"] = {
            "kind": "onepassword", "connect_host": server.url, "vault": "homelab", "on_delete": "remove"}
        stack.write_text(yaml.safe_dump(config, sort_keys=False))
        project.extra_env = {"HLB_HEALTHCHECKS_PING_KEY": PING_KEY, "HLB_ONEPASSWORD_TOKEN": TOKEN}
        yield UserPath(project, STACK).begin()
    finally:
        s3_server("stop", port)


def _external_secrets(project: EngineProject) -> list[dict]:
    found = []
    for file in sorted((project.dir / "rendered").rglob("*.yaml")):
        found += [d for d in yaml.safe_load_all(file.read_text()) if d and d.get("kind") == "ExternalSecret"]
    return found


def _reader(connect):
    server, vault_id = connect
    return onepassword_reader(Client(server.url, TOKEN), [vault_id])


def test_1_every_external_secret_resolves_from_the_vault(path, connect):
    assert not [f for f in path.policy_findings() if f[0] == "mandatory"], path.policy_findings()
    shown = path.project.outputs(STACK, show_secrets=True)
    read = _reader(connect)
    externals = _external_secrets(path.project)
    assert len(externals) >= 3
    resolved = {(e["metadata"]["namespace"], e["metadata"]["name"]): resolve(e, read) for e in externals}
    assert resolved[("vaultwarden", "vaultwarden-local-s3-repo")]["RESTIC_PASSWORD"] == \
        shown["secrets"]["vaultwarden"]["local-s3"]
    assert resolved[("monitoring", "grafana-nas-repo")]["KOPIA_PASSWORD"] == shown["secrets"]["grafana"]["nas"]
    assert all(v == {"ping_key": PING_KEY} for (_, name), v in resolved.items() if name.endswith("-healthchecks"))
    titles = {i["title"] for i in connect[0].connect.items[connect[1]].values()}
    assert titles == {e["remoteRef"]["key"] for x in externals for e in x["spec"]["data"]}


def test_2_a_second_preview_and_up_report_no_changes(path):
    path.again_without_changes()
    path.require("preview-again")
    path.require("up-again")


def test_3_a_rotated_ping_key_updates_the_item(path, connect):
    path.project.extra_env["HLB_HEALTHCHECKS_PING_KEY"] = ROTATED_PING_KEY
    path.pulumi("up-rotated", "up", "--yes", "--skip-preview")
    path.require("up-rotated")
    assert _reader(connect)("homelab-backups/healthchecks", "ping_key") == ROTATED_PING_KEY


def test_4_no_secret_value_in_outputs_logs_or_git_bound_files(path, connect):
    project = path.project
    shown = project.outputs(STACK, show_secrets=True)
    values = [TOKEN, PING_KEY, ROTATED_PING_KEY]
    values += [v for d, per in shown["secrets"].items() if d != "healthchecks_ping_base" for v in per.values()]
    texts = [project.run("stack", "output", "--stack", STACK, "--json").stdout,
             project.run("stack", "export", "--stack", STACK).stdout,
             (project.dir / f"Pulumi.{STACK}.yaml").read_text(),
             *(p.read_text() for p in (project.dir / "rendered").rglob("*.yaml")),
             *(r.stdout + r.stderr for r in path.steps.values())]
    for value in values:
        assert all(value not in text for text in texts)
    items = json.dumps(connect[0].connect.items)
    assert TOKEN not in items


def test_5_destroy_removes_the_items_with_on_delete_remove(path, connect):
    path.destroy().check_refusal()
    with pytest.raises(NotResolved):
        _reader(connect)("homelab-backups/healthchecks", "ping_key")
    assert connect[0].connect.items[connect[1]] == {}
