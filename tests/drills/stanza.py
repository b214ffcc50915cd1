"""pgbackrest.conf for a drill, from the Stanza the program rendered.

Everything about the repositories comes from the Stanza through `runbook.pgbackrest.stanza_options` (bucket,
endpoint, port, region, URI style, TLS verification, repository path, retention, cipher type), with the secret
options read from the Secrets the Stanza references. The only additions describe this machine instead of the
plugin's pod: where PostgreSQL runs, lock and spool folders, console logging, and the CA file that stands in for
the pod's trust store (the Stanza keeps verifyTLS: true, so pgBackRest really verifies the server).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runbook.pgbackrest import StanzaOptions, conf_text, stanza_options


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
