"""Host sources: a NixOS or other Linux machine whose files restic backs up (issue 17).

The program does not reach into hosts: it renders what each host needs (a NixOS module snippet, plain systemd units
with an environment-file template, a rustic profile) and the host's owner places them. Values land in systemd unit
files, in Nix (whose store is world-readable) and in TOML, so every path and command is checked here for what those
formats would silently change or expose: systemd expands `$` and `%`, and a secret under `/nix/store` is readable by
every user of the machine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from inventory.models import Inventory

HOSTNAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
"""RFC 1123 host names, lowercase (restic's `--host` and the systemd unit names carry it)."""
USER = r"^[a-z_][a-z0-9_-]{0,31}$"
SECRET_DIRECTORIES = {"agenix": "/run/agenix", "sops": "/run/secrets", "files": "/etc/restic"}
"""Where each secret tool puts decrypted files by default (agenix: `age.secrets.<name>.path`; sops-nix:
`sops.secrets.<name>.path`); `files`: placed by hand or by another tool, root-only."""
_UNSAFE = re.compile(r"[\x00-\x1f\"'\\`]")
"""Characters a path or command may not hold: control characters (a newline ends a unit-file line) and quotes or
backslashes (they would end the quoted argument in a systemd ExecStart line or a Nix string)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _absolute(value: str, what: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{what} {value!r} must be an absolute path (start with /)")
    if _UNSAFE.search(value):
        raise ValueError(f"{what} {value!r} holds a quote, backslash or control character, which the rendered unit "
                         "files cannot carry safely; rename it or back up its parent directory")
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError(f"{what} {value!r} has a '.' or '..' component; write the path restic should store")
    return value


class HostHooks(_Strict):
    """Commands around each backup: `pre` (e.g. a database dump into a backed-up path), `post` (cleanup)."""

    pre: tuple[Annotated[str, Field(min_length=1, max_length=2000)], ...] = ()
    """Run before the backup, in order; a failing command stops the backup (NixOS `backupPrepareCommand`)."""
    post: tuple[Annotated[str, Field(min_length=1, max_length=2000)], ...] = ()
    """Run after the backup, also when it failed (NixOS `backupCleanupCommand`, systemd `ExecStopPost`)."""

    @field_validator("pre", "post")
    @classmethod
    def _one_line(cls, commands: tuple[str, ...]) -> tuple[str, ...]:
        for command in commands:
            if _UNSAFE.search(command):
                raise ValueError(f"hook {command!r} holds a quote, backslash or line break, which a systemd "
                                 "ExecStartPre line cannot carry safely; put the commands in a script on the host "
                                 "and call it here (e.g. /usr/local/bin/dump-db)")
        return commands


class HostSecrets(_Strict):
    """Where the host's secret tool puts the decrypted files the units read (never values: only paths)."""

    tool: Literal["agenix", "sops", "files"] | None = None
    """agenix (`age.secrets`), sops (sops-nix `sops.secrets`) or plain root-only files you place yourself; default
    agenix on NixOS hosts, files on other systemd hosts."""
    directory: str | None = None
    """Directory of the decrypted files; default per tool: agenix /run/agenix, sops /run/secrets, files
    /etc/restic. Per copy the units read `<directory>/restic-<dataset>-<destination>.password` and `.env`."""

    @field_validator("directory")
    @classmethod
    def _not_in_store(cls, value: str | None) -> str | None:
        if value is None:
            return value
        _absolute(value, "directory")
        if value == "/nix/store" or value.startswith("/nix/store/"):
            raise ValueError(f"directory {value!r} is in the Nix store, which every user of the host can read; use "
                             "the path your secret tool decrypts to (agenix: /run/agenix, sops-nix: /run/secrets)")
        return value.rstrip("/") or "/"

    def path(self, os: str) -> str:
        """The directory in effect on a host of this `os`."""
        return self.directory or SECRET_DIRECTORIES[self.tool or ("agenix" if os == "nixos" else "files")]


class HostSource(_Strict):
    """A machine outside the cluster backed up by restic (rendered as NixOS, systemd and rustic files)."""

    kind: Literal["host"]
    hostname: Annotated[str, Field(pattern=HOSTNAME, max_length=253)]
    """The host's name, as restic records it (`--host`) and restores select it."""
    os: Literal["nixos", "systemd"]
    """nixos: `services.restic.backups` snippet; systemd: unit files for any other systemd distribution."""
    paths: Annotated[tuple[str, ...], Field(max_length=100)]
    """Absolute paths to back up, e.g. /etc, /home, /var/lib."""
    exclude: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = ()
    """restic exclude patterns (`--exclude`), e.g. /home/*/.cache."""
    one_file_system: bool = False
    """Do not cross into other file systems under the paths (restic `--one-file-system`)."""
    hooks: HostHooks = HostHooks()
    secrets: HostSecrets = HostSecrets()
    user: Annotated[str, Field(pattern=USER)] = "root"
    """The account the backup runs as; it must be able to read every path."""

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        if not paths:
            raise ValueError("no path to back up; list at least one, e.g. [/etc, /home, /var/lib]")
        for path in paths:
            _absolute(path, "path")
        seen = set()
        for path in paths:
            if path in seen:
                raise ValueError(f"path {path!r} is listed twice; list it once")
            seen.add(path)
        for path in paths:
            inside = next((p for p in paths if p != path and p != "/" and path.startswith(p.rstrip("/") + "/")), None)
            if inside is not None or (path != "/" and "/" in paths):
                raise ValueError(f"path {path!r} lies inside {inside or '/'!r}, which is already backed up; drop "
                                 f"{path!r} (or use exclude to leave parts of {inside or '/'!r} out)")
        return paths

    @field_validator("exclude")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if _UNSAFE.search(pattern):
                raise ValueError(f"exclude pattern {pattern!r} holds a quote, backslash or control character, which "
                                 "the rendered unit files cannot carry; use a glob (* or ?) in its place")
        return patterns

    @model_validator(mode="after")
    def _store_paths(self) -> HostSource:
        if self.os == "nixos" and any(p == "/nix" or p.startswith("/nix/") for p in self.paths):
            raise ValueError("the Nix store is rebuilt from the configuration and holds no state worth a backup; "
                             "drop /nix paths (back up the configuration's repository or /etc/nixos instead)")
        return self




def cross_host_problems(inv: Inventory) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules across the host datasets of an inventory: one repository per path, and a way to report."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    claimed: dict[tuple[str, str], str] = {}
    watched: list[str] = []
    for i, ds in enumerate(inv.datasets):
        source = ds.source
        if not isinstance(source, HostSource):
            continue
        for j, path in enumerate(source.paths):
            other = claimed.setdefault((source.hostname, path), ds.name)
            if other != ds.name:
                problems.append((("datasets", i, "source", "paths", j), f"{source.hostname}:{path} is already backed "
                                 f"up by dataset {other!r}; one path, one repository: drop it here or there"))
        if inv.tier(ds.tier).alerts:
            watched.append(ds.name)
    if watched and inv.monitoring.healthchecks is None:
        problems.append((("monitoring", "healthchecks"), f"host datasets {watched} need alerting and hosts report only "
                         "through Healthchecks pings from their units; set monitoring.healthchecks.ping_base"))
    return problems


__all__ = ["HostHooks", "HostSecrets", "HostSource", "SECRET_DIRECTORIES", "cross_host_problems"]
