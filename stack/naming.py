"""Where each credential is looked for: stack config paths and `HLB_*` environment names.

Pure names, no Pulumi: the offline runbook CLI (`python -m runbook drill`) reads the same environment names the
program does, and must run where Pulumi is not installed.
"""

from __future__ import annotations

PROJECT = "homelab-backups"
"""The config namespace of every key this program reads (`homelab-backups:datasets`, ...)."""

ADMIN_FIELDS = {"s3-compatible": ("access_key_id", "secret_access_key"), "b2": ("key_id", "key")}
"""Destination kinds whose admin credential the program passes to a dynamic provider (others use their
provider's own configuration: CLOUDFLARE_API_TOKEN, AWS_* or `pulumi config set aws:...`)."""
NAS_CREDENTIAL = ("truenas", ("api_key",))
"""The NAS API key: `credentials.truenas.api_key` or HLB_TRUENAS_API_KEY."""
PING_KEY_CREDENTIAL = ("healthchecks", ("ping_key",))
"""The project ping key when `monitoring.healthchecks.ping_base` is an endpoint alone: `credentials.healthchecks.
ping_key` or HLB_HEALTHCHECKS_PING_KEY."""
CONNECT_TOKEN_CREDENTIAL = ("onepassword", ("token",))
"""The Connect token of a `onepassword` secret store: `credentials.onepassword.token` or HLB_ONEPASSWORD_TOKEN."""
IDENTITY_FIELDS = ("access_key_id", "secret_access_key")
"""The fields of a tool key the user supplies for a destination the program cannot create keys on."""
ROLES = ("writer", "reader")
"""`writer`: the backup tool's key for its prefix; `reader`: the check and drill jobs' read-only key for it."""


def env_prefix(destination: str) -> str:
    """`storj-gw` -> `HLB_STORJ_GW_`: where credentials for a destination may come from in CI."""
    return "HLB_" + destination.upper().replace("-", "_") + "_"


def identity_env(destination: str, role: str, writer_key: str, field_name: str) -> str:
    """`HLB_STORJ_WRITER_PHOTOS_CLOUDSYNC_ACCESS_KEY_ID`: where a supplied tool key may come from in CI."""
    return f"{env_prefix(destination)}{role.upper()}_{writer_key.upper().replace('-', '_')}_{field_name.upper()}"
