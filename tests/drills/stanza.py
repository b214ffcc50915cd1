"""pgbackrest.conf for a drill, from the Stanza the program rendered.

Everything about the repositories comes from the Stanza through `runbook.pgbackrest.stanza_options` (bucket,
endpoint, port, region, URI style, TLS verification, repository path, retention, cipher type), with the secret
options read from the Secrets the Stanza references. The only additions describe this machine instead of the
plugin's pod: where PostgreSQL runs, lock and spool folders, console logging, and the CA file that stands in for
the pod's trust store (the Stanza keeps verifyTLS: true, so pgBackRest really verifies the server).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.pgbackrest import StanzaOptions, conf_text, stanza_options
from tests.drills.postgres import give_to_pg_user
from tests.engine.project import free_port


def stanza_conf(stanza: Mapping[str, Any], resolve: Callable[[str, str], str],
                local: Mapping[str, str]) -> tuple[StanzaOptions, str]:
    """(the Stanza's options, conf text): secret options resolved with `resolve(secret, key)`, then `local`."""
    mapped = stanza_options(stanza["spec"]["stanzaConfiguration"])
    if mapped.env:
        raise ValueError(f"customEnvVar entries that are not pgBackRest options: {sorted(mapped.env)}")
    options = dict(mapped.options)
    options |= {option: resolve(secret, key) for option, (secret, key) in mapped.secret_options.items()}
    clash = sorted(set(options) & set(local))
    if clash:
        raise ValueError(f"the drill must not override what the Stanza sets: {clash}")
    cluster = {k: v for k, v in local.items() if k.startswith("pg")}  # pgBackRest takes pg* options per stanza only
    machine = {k: v for k, v in local.items() if k not in cluster}
    return mapped, conf_text({"global": options | machine, mapped.stanza: cluster})


def drill_local_options(base: Path, pg_port: int, ca_file: Path, repositories: int) -> dict[str, str]:
    """This machine's side of the configuration."""
    local = {
        "pg1-path": str(base / "primary"),
        "pg1-port": str(pg_port),
        "pg1-socket-path": str(base),
        "lock-path": str(base / "lock"),
        "spool-path": str(base / "spool"),
        "log-level-console": "warn",
    }
    for n in range(1, repositories + 1):
        local[f"repo{n}-storage-ca-file"] = str(ca_file)
    return local


def pg_work_dir(prefix: str) -> Path:
    """A fresh folder the PostgreSQL user can enter (it holds the data directory, sockets and locks)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    give_to_pg_user(base)
    return base


def trusted_ca(base: Path, ca_source: Path) -> Path:
    """A copy of the CA the S3 server's certificate chains to, readable by the PostgreSQL user."""
    ca = base / "ca.pem"
    shutil.copyfile(ca_source, ca)
    ca.chmod(0o644)
    return ca


def private_conf(path: Path, text: str) -> Path:
    """A pgbackrest.conf (it holds keys and the cipher passphrase): owner-only, owned by the PostgreSQL user."""
    path.write_text(text)
    path.chmod(0o600)
    give_to_pg_user(path)
    return path


@dataclass(frozen=True)
class DrillStanza:
    """A rendered Stanza as pgBackRest on this machine runs it."""

    conf: Path
    """The written pgbackrest.conf."""
    options: StanzaOptions
    """What the Stanza maps to (its `stanza` name among them)."""
    port: int
    """The free loopback port the drill's PostgreSQL listens on."""

    def archive_command(self) -> str:
        """PostgreSQL's `archive_command` pushing WAL through this configuration."""
        return f"'pgbackrest --config={self.conf} --stanza={self.options.stanza} archive-push %p'"


def drill_stanza(base: Path, ca_source: Path, stanza: Mapping[str, Any], resolve: Callable[[str, str], str],
                 repositories: int | None = None) -> DrillStanza:
    """The CA copied in, a free port picked and pgbackrest.conf written from the rendered `stanza` (all its
    repositories, or the first `repositories`)."""
    ca = trusted_ca(base, ca_source)
    port = free_port()
    count = repositories or len(stanza["spec"]["stanzaConfiguration"]["s3Repositories"])
    mapped, text = stanza_conf(stanza, resolve, drill_local_options(base, port, ca, count))
    return DrillStanza(private_conf(base / "pgbackrest.conf", text), mapped, port)
