"""Host units read their repository password and keys from files only root can read, never from shared places.

The Nix store is world-readable (a secret there is readable by every user of the host), and /tmp and /var/tmp are
shared and cleaned; a relative path depends on the service's working directory. agenix and sops-nix decrypt into
/run/agenix and /run/secrets, which is where the inventory points by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import Severity

from .support.hosts import HOST_BACKUP, host_copies
from .support.policy import Meta, StackResource, Violation, stack_policy

META = Meta(
    name="host-disallow-exposed-secret-files",
    description="Host backups must read their secrets from absolute paths outside the Nix store and shared "
                "temporary folders.",
    severity=Severity.HIGH,
    remediation="Set the host dataset's source.secrets.directory to where the secret tool decrypts (agenix: "
                "/run/agenix, sops-nix: /run/secrets, or a root-only folder such as /etc/restic).",
)
EXPOSED = {"/nix/store/": "the Nix store, which every user of the host can read",
           "/tmp/": "a shared temporary folder", "/var/tmp/": "a shared temporary folder"}


def _problem(path: str) -> str | None:
    if not path.startswith("/"):
        return "a relative path, resolved against whatever directory the service starts in"
    return next((why for prefix, why in EXPOSED.items() if path.startswith(prefix)), None)


def check(resources: Sequence[StackResource], settings: dict[str, Any]) -> list[Violation]:
    """A violation per secret file of a host copy that sits somewhere others can read or the service cannot find."""
    violations = []
    for r in resources:
        if r.type != HOST_BACKUP:
            continue
        for copy in host_copies(r.props):
            for role in ("password_file", "environment_file"):
                path = copy.get(role)
                if not isinstance(path, str):
                    continue
                problem = _problem(path)
                if problem:
                    violations.append(Violation(
                        f"host dataset {r.name}: the {role.replace('_', ' ')} of the {copy.get('destination')} copy "
                        f"is {path!r}, {problem}; point source.secrets.directory at /run/agenix, /run/secrets or a "
                        "root-only folder.", r.urn))
    return violations


POLICY = stack_policy(META, check)
