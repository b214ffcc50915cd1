"""inventory/hosts.py: a host source is validated before anything renders, every mistake with its path and fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inventory.load import InventoryError, load_inventory

BASE: dict[str, Any] = {
    "destinations": [{"name": "nas", "kind": "nfs", "server": "nas", "path": "/mnt/backup"},
                     {"name": "b2", "kind": "b2", "region": "us-west-004"}],
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
    "datasets": [{"name": "atlas", "tier": 1, "size_gb": 5, "destinations": ["nas", "b2"],
                  "source": {"kind": "host", "hostname": "atlas", "os": "nixos", "paths": ["/etc", "/var/lib"]}}],
}


def problems(**changes: Any) -> list[tuple[str, str]]:
    """(path, message) of every problem after changing the first dataset's source."""
    raw = copy.deepcopy(BASE)
    raw["datasets"][0]["source"].update(changes)
    with pytest.raises(InventoryError) as error:
        load_inventory(raw)
    return [(p.path, p.message) for p in error.value.problems]


def test_a_valid_host_loads_with_defaults() -> None:
    source = load_inventory(copy.deepcopy(BASE)).datasets[0].source
    assert source.kind == "host" and source.user == "root" and not source.one_file_system
    assert source.secrets.path("nixos") == "/run/agenix" and source.secrets.path("systemd") == "/etc/restic"


def test_paths_must_be_absolute_unique_and_not_nested() -> None:
    assert problems(paths=["etc", "/home", "/home", "/home/me"]) == [(
        "datasets[0].source.paths", "path 'etc' must be an absolute path (start with /)")]
    assert problems(paths=["/home", "/home"]) == [(
        "datasets[0].source.paths", "path '/home' is listed twice; list it once")]
    assert problems(paths=["/home", "/home/me"]) == [(
        "datasets[0].source.paths", "path '/home/me' lies inside '/home', which is already backed up; drop "
        "'/home/me' (or use exclude to leave parts of '/home' out)")]
    assert problems(paths=[]) == [("datasets[0].source.paths", "no path to back up; list at least one, e.g. [/etc, "
                                   "/home, /var/lib]")]


def test_values_systemd_or_nix_would_change_are_refused() -> None:
    assert problems(paths=['/srv/"x"']) == [(
        "datasets[0].source.paths", "path '/srv/\"x\"' holds a quote, backslash or control character, which the "
        "rendered unit files cannot carry safely; rename it or back up its parent directory")]
    assert problems(exclude=["a\nb"])[0][0] == "datasets[0].source.exclude"
    assert problems(hooks={"pre": ["echo 'x'"]}) == [(
        "datasets[0].source.hooks.pre", "hook \"echo 'x'\" holds a quote, backslash or line break, which a systemd "
        "ExecStartPre line cannot carry safely; put the commands in a script on the host and call it here (e.g. "
        "/usr/local/bin/dump-db)")]


def test_secrets_never_in_the_nix_store_and_the_store_not_backed_up() -> None:
    assert problems(secrets={"tool": "agenix", "directory": "/nix/store/abc-secrets"}) == [(
        "datasets[0].source.secrets.directory", "directory '/nix/store/abc-secrets' is in the Nix store, which every "
        "user of the host can read; use the path your secret tool decrypts to (agenix: /run/agenix, sops-nix: "
        "/run/secrets)")]
    assert problems(paths=["/etc", "/nix/var"]) == [(
        "datasets[0].source", "the Nix store is rebuilt from the configuration and holds no state worth a backup; "
        "drop /nix paths (back up the configuration's repository or /etc/nixos instead)")]


def test_closed_sets_and_host_names() -> None:
    assert problems(os="debian", hostname="Atlas") == [
        ("datasets[0].source.hostname", "'Atlas' is not a lowercase host name (letters, digits, '-', dots between "
         "labels), e.g. `nas.home.arpa`"),
        ("datasets[0].source.os", "'debian' is not allowed; use one of 'nixos' or 'systemd'")]
    assert problems(secrets={"tool": "vault"})[0][0] == "datasets[0].source.secrets.tool"
    assert problems(bogus=1) == [("datasets[0].source.bogus", "unknown field; remove it or check its spelling "
                                  "against the README's inventory reference")]


def test_one_path_one_repository_and_alerts_need_healthchecks() -> None:
    raw = copy.deepcopy(BASE)
    raw["datasets"].append({**copy.deepcopy(raw["datasets"][0]), "name": "atlas-etc"})
    raw["datasets"][1]["source"]["paths"] = ["/etc"]
    del raw["monitoring"]
    with pytest.raises(InventoryError) as error:
        load_inventory(raw)
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("datasets[1].source.paths[0]", "atlas:/etc is already backed up by dataset 'atlas'; one path, one "
         "repository: drop it here or there"),
        ("monitoring.healthchecks", "host datasets ['atlas', 'atlas-etc'] need alerting and hosts report only "
         "through Healthchecks pings from their units; set monitoring.healthchecks.ping_base"),
    ]


def test_hosts_may_use_the_nas_export_and_tier_rules_still_apply() -> None:
    raw = copy.deepcopy(BASE)
    raw["datasets"][0]["destinations"] = ["nas"]
    with pytest.raises(InventoryError) as error:
        load_inventory(raw)
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("datasets[0].destinations", "tier 1 needs at least one offsite copy; add one of ['b2'] to its destinations")]
