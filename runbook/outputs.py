"""Reading the stack outputs runbooks and drills start from, and checking them against the contract schema.

Secrets are only fetched from Pulumi when the caller asks for them, so a runbook generated without
`--show-secrets` never had a secret in memory to leak.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from runbook.contract import CONTRACT_VERSION, SECRETS_OUTPUT

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / f"runbook-contract.v{CONTRACT_VERSION}.schema.json"
HIDDEN = "[secret]"
"""What `pulumi stack output --json` prints for a secret output without --show-secrets."""


class OutputsError(RuntimeError):
    """The outputs could not be read, or do not follow the runbook contract."""


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def read_outputs(stack: str | None = None, source: Path | None = None, show_secrets: bool = False,
                 project_dir: Path | None = None, pulumi: str = "pulumi") -> dict[str, Any]:
    """Outputs from a file or from `pulumi stack output --json`; secrets are requested only when asked for."""
    if source is not None:
        try:
            return json.loads(source.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise OutputsError(f"cannot read stack outputs from {source}: {exc}") from None
    command = [pulumi, "stack", "output", "--json"]
    if project_dir is not None:
        command += ["--cwd", str(project_dir)]
    if stack:
        command += ["--stack", stack]
    if show_secrets:
        command.append("--show-secrets")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise OutputsError(f"{pulumi!r} is not on PATH; run `source scripts/env.sh` or pass --from FILE") from None
    if result.returncode != 0:
        raise OutputsError(f"`{' '.join(command)}` failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)


def validate(outputs: dict[str, Any]) -> dict[str, Any]:
    """The runbook contract inside the outputs, after checking them against the versioned schema."""
    import jsonschema

    runbook = outputs.get("runbook")
    if not isinstance(runbook, dict):
        raise OutputsError("these outputs have no `runbook`: is this a homelab-backups stack?")
    version = runbook.get("version")
    if version != CONTRACT_VERSION:
        raise OutputsError(f"runbook contract version {version!r}; this tool reads version {CONTRACT_VERSION!r}")
    validator = jsonschema.Draft202012Validator(load_schema())
    problems = sorted(validator.iter_errors(outputs), key=lambda e: list(map(str, e.absolute_path)))
    if problems:
        lines = "\n".join(f"  - {'.'.join(map(str, e.absolute_path)) or '(top)'}: {_problem(e)}"
                          for e in problems[:20])
        raise OutputsError(f"the outputs break the runbook contract in {len(problems)} place(s):\n{lines}")
    return runbook


SECRET_OUTPUTS = (SECRETS_OUTPUT, "credentials", "reader_credentials")
"""Outputs whose values are secrets: a schema problem there is described without the value."""


def _problem(error: Any) -> str:
    """jsonschema's message quotes the offending value; under a secret output that value is a secret."""
    path = list(error.absolute_path)
    if path and path[0] in SECRET_OUTPUTS:
        return f"the value here fails the schema's `{error.validator}` rule (value not shown: it is a secret)"
    return str(error.message)[:200]


def secrets_shown(outputs: dict[str, Any]) -> bool:
    return isinstance(outputs.get(SECRETS_OUTPUT), dict)


def secret_at(outputs: dict[str, Any], path: str) -> Any:
    """The value at an escrow path such as `secrets.vaultwarden.b2`: a string, or an object of strings."""
    head, _, rest = path.partition(".")
    if head != SECRETS_OUTPUT or not rest:
        raise OutputsError(f"{path!r} is not an escrow path (secrets.<dataset>.<destination>)")
    if not secrets_shown(outputs):
        raise OutputsError(f"{path} is hidden in these outputs; read them with --show-secrets")
    node: Any = outputs[SECRETS_OUTPUT]
    for part in rest.split("."):
        if not isinstance(node, dict) or part not in node:
            raise OutputsError(f"{path} is not in the secrets output")
        node = node[part]
    return node
