"""manifests/hosts.py: the rendered host files, checked by the tools that will read them.

systemd units go through `systemd-analyze verify` (any warning fails); the NixOS snippet through Nix's own parser
and evaluator (`nix-instantiate`, Debian's nix-bin), whose JSON is compared with the plan, option by option, against
the options `services.restic.backups.<name>` declares. No file carries a secret value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from manifests.hosts import host_files, nix_str, secret_files, unit_arg
from plan.hosts import host_plan
from tests.components.harness import stack_plan

RESTIC_OPTIONS = {"paths", "exclude", "repository", "repositoryFile", "passwordFile", "environmentFile",
                  "initialize", "timerConfig", "pruneOpts", "runCheck", "checkOpts", "backupPrepareCommand",
                  "backupCleanupCommand", "extraBackupArgs", "user", "extraOptions", "rcloneOptions",
                  "rcloneConfig", "rcloneConfigFile", "dynamicFilesFrom", "createWrapper", "inhibitsSleep",
                  "package", "progressFps", "command"}
"""The options of nixpkgs' `services.restic.backups.<name>` (nixos/modules/services/backup/restic.nix)."""
SECRETS = ("SECRET-", "AKIA")
"""Markers of the values the test passes: none may reach a rendered file."""


@pytest.fixture(scope="module")
def hosts():
    plan = stack_plan("hosts")
    return [host_plan(u, pings=True) for u in plan.units if u.kind == "host"]


@pytest.fixture(scope="module")
def rendered(hosts, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("host-files")
    for host in hosts:
        for relative, text in host_files(host).items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text)
    return root


def test_each_host_gets_the_files_of_its_kind(hosts) -> None:
    atlas, pebble = hosts
    assert sorted(host_files(atlas)) == [
        "env/restic-atlas-b2.env.template", "env/restic-atlas-nas.env.template", "env/restic-atlas-site2.env.template",
        "nixos/atlas.nix", "rustic/atlas-b2.toml", "rustic/atlas-nas.toml", "rustic/atlas-site2.toml"]
    assert sorted(host_files(pebble)) == [
        "env/restic-pebble-b2.env.template", "env/restic-pebble-nas.env.template", "rustic/pebble-b2.toml",
        "rustic/pebble-nas.toml", "systemd/restic-backups-pebble-b2.service", "systemd/restic-backups-pebble-b2.timer",
        "systemd/restic-backups-pebble-nas.service", "systemd/restic-backups-pebble-nas.timer"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="scripts/services.sh install adds systemd")
def test_systemd_accepts_the_units_without_a_warning(rendered: Path) -> None:
    units = sorted(str(p) for p in (rendered / "systemd").iterdir())
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="scripts/services.sh install adds systemd")
def test_systemd_verify_fails_on_a_broken_unit(rendered: Path, tmp_path: Path) -> None:
    unit = (rendered / "systemd" / "restic-backups-pebble-b2.timer").read_text()
    broken = tmp_path / "restic-backups-pebble-b2.timer"
    broken.write_text(unit.replace("OnCalendar=*-*-* ", "OnCalendar=*-*-* 25:"))
    (tmp_path / "restic-backups-pebble-b2.service").write_text(
        (rendered / "systemd" / "restic-backups-pebble-b2.service").read_text())
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "calendar" in result.stderr


def nix_eval(path: Path) -> dict:
    """The snippet evaluated by Nix with stand-ins for the module arguments, as JSON."""
    expr = (f'(import {path}) {{ config = {{}}; lib = {{}}; pkgs = {{ curl = "/stub/curl"; restic = "/stub/restic"; '
            '}; }')
    out = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E", expr], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="scripts/services.sh install adds nix-bin")
def test_nix_parses_and_evaluates_the_snippet_to_the_plan(hosts, rendered: Path) -> None:
    atlas = hosts[0]
    path = rendered / "nixos" / "atlas.nix"
    subprocess.run(["nix-instantiate", "--parse", str(path)], check=True, capture_output=True)
    config = nix_eval(path)
    backups = config["services"]["restic"]["backups"]
    assert list(backups) == sorted(c.name for c in atlas.copies)
    for copy in atlas.copies:
        got = backups[copy.name]
        assert set(got) <= RESTIC_OPTIONS, set(got) - RESTIC_OPTIONS
        assert got["repository"] == copy.repository and got["passwordFile"] == copy.password_file
        assert got.get("environmentFile") == copy.environment_file
        assert got["paths"] == list(atlas.source.paths) and got["exclude"] == list(atlas.source.exclude)
        assert got["extraBackupArgs"] == ["--host", "atlas", "--one-file-system"]
        assert got["pruneOpts"] == list(copy.prune_opts) and got["checkOpts"] == list(copy.check_opts)
        assert got["runCheck"] is True and got["initialize"] is True
        assert got["timerConfig"] == {"OnCalendar": copy.on_calendar, "RandomizedDelaySec": "240",
                                      "FixedRandomDelay": True, "Persistent": True}
        assert got["backupPrepareCommand"] == "".join(f"{h}\n" for h in atlas.source.hooks.pre)
        assert got["backupCleanupCommand"].endswith(
            '/stub/curl/bin/curl -fsS -m 10 --retry 5 -o /dev/null "$HLB_PING_URL$s"\n')
        unit = config["systemd"]["services"][copy.service.removesuffix(".service")]
        if copy.mount:
            assert unit["unitConfig"]["RequiresMountsFor"] == [copy.mount]
        assert unit.get("environment", {}) == copy.environment
    drill_unit = atlas.drill.service.removesuffix(".service")
    drill = config["systemd"]["services"][drill_unit]
    assert drill["script"].startswith("/stub/restic/bin/restic restore latest --host atlas --target ")
    assert config["systemd"]["timers"][drill_unit]["timerConfig"]["OnCalendar"] == atlas.drill.on_calendar


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="scripts/services.sh install adds nix-bin")
def test_nix_strings_carry_interpolation_literally(tmp_path: Path) -> None:
    text = 'a ${b} "c" \\ $d'
    path = tmp_path / "s.nix"
    path.write_text(f"{{ ... }}: {{ x = {nix_str(text)}; }}")
    assert nix_eval(path) == {"x": text}


def test_rustic_profiles_are_toml_of_the_same_repository(hosts) -> None:
    for host in hosts:
        files = host_files(host)
        for copy in host.copies:
            profile = tomllib.loads(files[f"rustic/{copy.name}.toml"])
            assert profile["repository"]["password-file"] == copy.password_file
            assert profile["backup"]["snapshots"] == [{"sources": list(host.source.paths)}]
            assert profile["backup"]["host"] == host.hostname
            assert profile["forget"] == {**{f"keep-{k}": v for k, v in copy.copy.retention.levels().items()},
                                         "prune": True}
            if copy.mount:
                assert profile["repository"]["repository"] == copy.repository
            else:
                assert profile["repository"]["options"]["bucket"] == copy.copy.bucket
                assert profile["repository"]["options"]["root"] == "/" + copy.copy.repository


def test_no_file_holds_a_value_and_secret_files_do(hosts) -> None:
    atlas = hosts[0]
    passwords = {c.destination: f"SECRET-pw-{c.destination}" for c in atlas.copies}
    creds = {c.destination: {"access_key_id": "AKIA", "secret_access_key": f"SECRET-{c.destination}"}
             for c in atlas.copies}
    for text in host_files(atlas).values():
        assert not any(marker in text for marker in SECRETS)
    filled = secret_files(atlas, passwords, creds, "https://hc-ping.com/SECRET-key/")
    b2 = next(c for c in atlas.copies if c.destination == "b2")
    assert filled[b2.password_file] == "SECRET-pw-b2\n"
    assert filled[b2.environment_file] == ("AWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY=SECRET-b2\n"
                                           "HLB_PING_URL=https://hc-ping.com/SECRET-key/backup-atlas-b2\n")
    with pytest.raises(ValueError, match="no ping base"):
        secret_files(atlas, passwords, creds, None)


def test_systemd_arguments_escape_what_systemd_expands() -> None:
    assert unit_arg("/srv/data") == "/srv/data"
    assert unit_arg("/home/*/.cache dir") == '"/home/*/.cache dir"'
    assert unit_arg("50%") == "50%%" and unit_arg("$HOME") == "$$HOME"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="scripts/services.sh install adds systemd")
def test_hooks_reach_the_shell_literally_through_systemd_and_nix(tmp_path: Path) -> None:
    from dataclasses import replace

    from manifests.hosts import backup_service, nixos_module
    from tests.drills.host_units import parse_unit

    unit = stack_plan("hosts").unit("pebble")
    host = host_plan(unit, pings=True)
    hooks = host.source.hooks.model_copy(update={"pre": ("/usr/bin/dump --to $HOME/db 50% ${X}",)})
    host = replace(host, source=host.source.model_copy(update={"hooks": hooks, "os": "nixos"}))
    text = backup_service(host, host.copies[0])
    (tmp_path / host.copies[0].service).write_text(text)
    verify = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / host.copies[0].service)],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    parsed = parse_unit(text.replace(f"EnvironmentFile={host.copies[0].environment_file}\n", ""), "/var/cache")
    assert ["/bin/sh", "-ec", "/usr/bin/dump --to $HOME/db 50% ${X}"] in parsed.pre
    if shutil.which("nix-instantiate"):
        (tmp_path / "m.nix").write_text(nixos_module(host))
        config = nix_eval(tmp_path / "m.nix")
        got = config["services"]["restic"]["backups"][host.copies[0].name]["backupPrepareCommand"]
        assert got == "/usr/bin/dump --to $HOME/db 50% ${X}\n"
