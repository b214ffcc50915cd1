"""`python -m runbook status`: what runs against what the plan promised, per dataset and copy.

Read-only on both sides: the Healthchecks Management API (GET /api/v3/checks/, read-only key) gives each copy's
last ping, matched by the slug its ping URL ends with; the destinations' object listings (ListObjectsV2 under the
copy's repository prefix) give what is stored. Each copy is `ok`, `late` (last success older than the dataset's
RPO target, or the check is down) or `never-ran` (no check, or a check never pinged). A Tier 1 copy that is late or
never ran makes the exit status 1.

Read keys come from the environment, per destination, with the names the program uses for its own keys
(`HLB_<DESTINATION>_ACCESS_KEY_ID` / `_SECRET_ACCESS_KEY`, or `_KEY_ID` / `_KEY` for B2): give it read-only ones.
Copies whose size cannot be listed (NFS, NAS dumps, no key) say why instead of a number.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

LISTABLE = {"b2", "r2", "s3", "s3-compatible"}


class StatusError(Exception):
    """The status cannot be read at all (the Healthchecks API refused or is unreachable)."""


@dataclass
class CopyStatus:
    dataset: str
    tier: int
    destination: str
    tool: str
    state: str
    """ok | late | never-ran"""
    last_success: str | None
    age_hours: float | None
    rpo_target_hours: int
    stored_gb: float | None
    expected_gb: float
    size_note: str
    check: str
    """The Healthchecks slug, or why there is none."""


def fetch_checks(base_url: str, api_key: str, timeout: float = 30) -> dict[str, dict[str, Any]]:
    """slug -> check, from the Healthchecks Management API (v3, read-only key is enough)."""
    request = urllib.request.Request(base_url.rstrip("/") + "/api/v3/checks/", headers={"X-Api-Key": api_key})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        raise StatusError(f"Healthchecks API at {base_url} answered {exc.code}: check the API key "
                          "(Project Settings > API Access; a read-only key is enough)") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise StatusError(f"cannot read the Healthchecks API at {base_url}: {exc}") from None
    return {c["slug"]: c for c in body.get("checks", []) if c.get("slug")}


def _env_name(destination: str, field: str) -> str:
    return f"HLB_{destination.upper().replace('-', '_')}_{field}"


def _read_keys(copy: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, str] | None:
    dest = copy["destination"]
    pairs = [("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"), ("KEY_ID", "KEY")]
    for key_id, secret in pairs:
        if env.get(_env_name(dest, key_id)) and env.get(_env_name(dest, secret)):
            return env[_env_name(dest, key_id)], env[_env_name(dest, secret)]
    return None


def stored_bytes(copy: Mapping[str, Any], env: Mapping[str, str]) -> tuple[int | None, str]:
    """Bytes stored under the copy's repository prefix (all current objects), or None and why not."""
    if copy["kind"] not in LISTABLE or not copy.get("bucket") or not copy.get("endpoint"):
        return None, "not listed (not object storage)"
    keys = _read_keys(copy, env)
    if keys is None:
        return None, (f"not listed: no read key in {_env_name(copy['destination'], 'ACCESS_KEY_ID')} / "
                      f"{_env_name(copy['destination'], 'SECRET_ACCESS_KEY')}")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("s3", endpoint_url=copy["endpoint"], region_name=copy.get("region") or "us-east-1",
                          aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
    total = 0
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=copy["bucket"],
                                                                     Prefix=copy["repository"].rstrip("/") + "/"):
            total += sum(o["Size"] for o in page.get("Contents", []))
    except (BotoCoreError, ClientError) as exc:
        return None, f"not listed: {exc}"
    return total, ""


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


VZDUMP_UNWATCHED = "PVE reports vzdump runs through its notification system (Datacenter > Notifications), not here"


def copy_status(name: str, ds: Mapping[str, Any], copy: Mapping[str, Any], checks: Mapping[str, dict[str, Any]],
                now: dt.datetime, sizer: Callable[[Mapping[str, Any]], tuple[int | None, str]]) -> CopyStatus:
    slug = copy.get("healthcheck", {}).get("backup", "")  # contract v2: the slug itself, never a URL
    check = checks.get(slug) if slug else None
    last = check.get("last_ping") if check else None
    rpo = ds["rpo_target_hours"]
    if last is None:
        state, age = "never-ran", None
    else:
        age = round((now - _parse_time(last)).total_seconds() / 3600, 2)
        state = "late" if age > rpo or check.get("status") == "down" else "ok"
    size, note = sizer(copy)
    return CopyStatus(
        dataset=name, tier=ds["tier"], destination=copy["destination"], tool=copy["tool"], state=state,
        last_success=last, age_hours=age, rpo_target_hours=rpo,
        stored_gb=None if size is None else round(size / 1e9, 3), expected_gb=ds["size_gb"], size_note=note,
        check=slug if check else (f"no check with slug {slug!r}" if slug else VZDUMP_UNWATCHED
                                  if copy["tool"] == "vzdump" else "no Healthchecks check in the outputs"))


def estate_status(runbook: Mapping[str, Any], checks: Mapping[str, dict[str, Any]], now: dt.datetime,
                  env: Mapping[str, str] | None = None) -> list[CopyStatus]:
    environment = os.environ if env is None else env
    return [copy_status(name, runbook["datasets"][name], c, checks, now, lambda c: stored_bytes(c, environment))
            for name in sorted(runbook["datasets"], key=lambda n: (runbook["datasets"][n]["tier"], n))
            for c in runbook["datasets"][name]["copies"]]


def failing(rows: list[CopyStatus]) -> list[CopyStatus]:
    """Tier 1 copies that are late or never ran: these make the exit status 1."""
    return [r for r in rows if r.tier == 1 and r.state != "ok"]


def as_json(rows: list[CopyStatus], now: dt.datetime) -> str:
    return json.dumps({"generated_at": now.isoformat(), "tier1_failing": len(failing(rows)),
                       "copies": [asdict(r) for r in rows]}, indent=2, sort_keys=True)


def as_text(rows: list[CopyStatus]) -> str:
    def age(r: CopyStatus) -> str:
        return "never" if r.age_hours is None else f"{r.age_hours:.1f} h ago"

    def size(r: CopyStatus) -> str:
        if r.stored_gb is None:
            return r.size_note
        ratio = f" ({r.stored_gb / r.expected_gb:.0%} of the plan's {r.expected_gb:g} GB)" if r.expected_gb else ""
        return f"{r.stored_gb:g} GB{ratio}"

    lines = ["dataset  tier  copy  state  last success (RPO target)  stored"]
    lines += [f"{r.dataset}  {r.tier}  {r.destination} ({r.tool})  {r.state.upper()}  {age(r)} "
              f"(RPO {r.rpo_target_hours} h)  {size(r)}" for r in rows]
    bad = failing(rows)
    lines.append(f"{len(bad)} Tier 1 copies late or never ran" if bad else "every Tier 1 copy is within its RPO")
    return "\n".join(lines) + "\n"
