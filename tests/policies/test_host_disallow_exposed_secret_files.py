"""host-disallow-exposed-secret-files: agenix paths pass; the Nix store, shared tmp and relative paths are named."""

from __future__ import annotations

from policies.rules import host_disallow_exposed_secret_files as rule
from tests.policies import fixtures as f
from tests.policies.hosts_fixture import HostEstate

POLICY = rule.POLICY


def test_agenix_paths_pass():
    assert f.run_stack(POLICY, HostEstate().nodes).messages == []


def test_store_tmp_and_relative_paths_are_named():
    estate = HostEstate()
    estate.copy_of("nas")["password_file"] = "/nix/store/abc-restic.password"
    estate.copy_of("b2")["environment_file"] = "/tmp/restic.env"
    estate.copy_of("b2")["password_file"] = "secrets/restic.password"
    assert f.run_stack(POLICY, estate.nodes).messages == [
        "host dataset atlas: the password file of the nas copy is '/nix/store/abc-restic.password', the Nix store, "
        "which every user of the host can read; point source.secrets.directory at /run/agenix, /run/secrets or a "
        "root-only folder.",
        "host dataset atlas: the password file of the b2 copy is 'secrets/restic.password', a relative path, resolved "
        "against whatever directory the service starts in; point source.secrets.directory at /run/agenix, "
        "/run/secrets or a root-only folder.",
        "host dataset atlas: the environment file of the b2 copy is '/tmp/restic.env', a shared temporary folder; "
        "point source.secrets.directory at /run/agenix, /run/secrets or a root-only folder."]
