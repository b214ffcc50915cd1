"""Values the program hands to shells, tools and the NAS: refused here when the tool would refuse them later.

Each check mirrors a limit enforced downstream (a manifest builder, a provider's `check`, a mover), so a bad value
stops at load time with its inventory path instead of as a traceback halfway through `up`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from inventory.models import ExportSource, Inventory, Location, PvcSource, TruenasSource
from plan.capabilities import capabilities_of

SHELL_UNSAFE = re.compile(r"[\s'\"`$\\;&|<>(){}]")
"""Characters a ping URL may not carry: the jobs and the NAS's cloud sync scripts pass it to curl in a shell."""
SQLITE_UNSAFE = "'\"?#$`\\"
"""Characters the dump script cannot quote safely in a sqlite path."""
PING_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""A Healthchecks project ping key: 22 URL-safe base64 characters today; bounded, and never a path or a query."""
HOSTED_PING_HOSTS = ("hc-ping.com",)
"""Hosted Healthchecks: slug URLs exist only under a project ping key, `https://hc-ping.com/<ping-key>/<slug>`."""
ZFS_COMPONENT = re.compile(r"^[A-Za-z0-9_.: -]+$")
ZFS_RESERVED_POOLS = ("mirror", "raidz", "draid", "spare", "log")
KOPIA_MIN_LOCK_DAYS = 2
"""Kopia's full maintenance runs daily and must come round a day before the lock lapses (design §5)."""


def input_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Every value that would fail inside the program or a tool, located in the inventory."""
    problems = _ping_base_problems(inv)
    problems += _kopia_lock_problems(inv)
    for i, ds in enumerate(inv.datasets):
        source = ds.source
        if isinstance(source, ExportSource) and source.sqlite_path is not None:
            problem = sqlite_path_problem(source.sqlite_path)
            if problem:
                problems.append((("datasets", i, "source", "sqlite_path"), problem))
        if isinstance(source, TruenasSource):
            problem = zfs_dataset_problem(source.dataset)
            if problem:
                problems.append((("datasets", i, "source", "dataset"), problem))
            for j, child in enumerate(source.exclude):
                problem = zfs_dataset_problem(child)
                if problem:
                    problems.append((("datasets", i, "source", "exclude", j), problem))
    return problems


def sqlite_path_problem(path: str) -> str | None:
    """Why a sqlite file path inside a claim cannot be used, or None."""
    parts = path.split("/")
    if path.startswith("/") or ".." in parts:
        return (f"{path!r} must be relative to the root of sqlite_claim and stay inside it; write the path inside "
                "the claim without a leading '/' or '..', e.g. `grafana.db` or `data/grafana.db`")
    bad = sorted({c for c in path if c in SQLITE_UNSAFE})
    if bad:
        return f"{path!r} contains {bad}, which the dump script cannot pass safely; rename the file or its folder"
    if path.endswith("/") or "" in parts:
        return f"{path!r} is not a file path; name the database file, e.g. `data/grafana.db`"
    return None


def zfs_dataset_problem(name: str) -> str | None:
    """Why ZFS (and TrueNAS's `/mnt/<dataset>` paths) would refuse a dataset name, or None."""
    parts = name.split("/")
    if any(p in (".", "..") for p in parts):
        return f"{name!r} has a '.' or '..' component, which ZFS refuses; write the dataset path, e.g. `tank/photos`"
    if any(p != p.strip() or not ZFS_COMPONENT.match(p) for p in parts):
        return (f"{name!r} has an empty component or one starting or ending in a space; write the dataset path, "
                "e.g. `tank/photos`")
    pool = parts[0]
    if not pool[0].isalpha() or pool.startswith(ZFS_RESERVED_POOLS) or re.match(r"^c[0-9]", pool):
        return (f"pool {pool!r} is not a valid ZFS pool name (it must start with a letter and not be a reserved "
                f"word such as {list(ZFS_RESERVED_POOLS)} or c<digit>); use the pool name `zpool list` shows")
    if len(name) > 200:
        return f"{name!r} is {len(name)} characters; ZFS allows about 200 with snapshot names, so shorten it"
    return None


def split_ping_base(base: str) -> tuple[str, str | None]:
    """`https://hc-ping.com/<key>/` -> (`https://hc-ping.com/`, `<key>`): the endpoint and the ping key it carries.

    The key is the last path segment, unless the path is empty or ends at `/ping/` (a self-hosted endpoint); then
    the base is an endpoint alone and the key comes from `credentials.healthchecks.ping_key`.
    """
    parts = urlsplit(base)
    segments = [s for s in parts.path.split("/") if s]
    if not segments or segments[-1] == "ping":
        return base, None
    endpoint = f"{parts.scheme}://{parts.netloc}/" + "".join(f"{s}/" for s in segments[:-1])
    return endpoint, segments[-1]


def ping_key_problem(key: str) -> str | None:
    """Why a Healthchecks ping key cannot be put between the endpoint and a slug, or None (never echoes the key)."""
    if not PING_KEY.match(key):
        return ("is not a Healthchecks project ping key (letters, digits, '-' and '_'); copy it from the "
                "project's Settings page, section 'Ping key'")
    return None


def _ping_base_problems(inv: Inventory) -> list[tuple[Location, str]]:
    checks = inv.monitoring.healthchecks
    if checks is None:
        return []
    base = checks.ping_base
    loc: Location = ("monitoring", "healthchecks", "ping_base")
    bad = sorted(set(SHELL_UNSAFE.findall(base)))
    if bad:
        return [(loc, f"{_shown(base)!r} contains {bad}; jobs pass it to curl in a shell, so use the plain ping "
                      "endpoint from the project's settings page, e.g. `https://hc-ping.com/`")]
    parts = urlsplit(base)
    segments = [s for s in parts.path.split("/") if s]
    if parts.query or parts.fragment:
        return [(loc, f"{_shown(base)!r} has a query or fragment; slugs are appended to it, so use the ping "
                      "endpoint alone, e.g. `https://hc-ping.com/`")]
    if parts.hostname in HOSTED_PING_HOSTS and len(segments) > 1:
        return [(loc, f"{_shown(base)!r} is not a ping endpoint: hosted Healthchecks slug URLs are "
                      f"`https://{parts.hostname}/<ping-key>/<slug>`; write `https://{parts.hostname}/` and set the "
                      "key with `pulumi config set --secret --path 'credentials.healthchecks.ping_key' <ping-key>`")]
    _, key = split_ping_base(base)
    if key is not None and ping_key_problem(key):
        return [(loc, f"{_shown(base)!r} ends in a segment that {ping_key_problem(key)}")]
    return []


def _shown(base: str) -> str:
    """The ping base as messages may print it: every path segment but `ping` is masked, since one may be the key."""
    parts = urlsplit(base)
    segments = [s if s == "ping" else "<hidden>" for s in parts.path.split("/") if s]
    return f"{parts.scheme}://{parts.netloc}/" + "".join(f"{s}/" for s in segments)


def _kopia_lock_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """A kopia repository under a 1-day lock: maintenance cannot run a day before the lock lapses."""
    problems: list[tuple[Location, str]] = []
    for number in (1, 2, 3):
        tier = inv.tier(number)
        if not tier.lock_days:
            continue
        window = int(tier.offsite_retention.shortest_window_days())
        effective = min(tier.lock_days, window - 1)
        if effective >= KOPIA_MIN_LOCK_DAYS or effective < 1:
            continue
        kopia = sorted({ds.name for ds in inv.datasets if ds.tier == number and isinstance(ds.source, PvcSource)
                        and ds.source.mover in ("kopia", "kopiur") and _has_locked_copy(inv, ds)})
        if not kopia:
            continue
        if tier.lock_days < KOPIA_MIN_LOCK_DAYS:
            loc: Location = ("tiers", str(number), "lock_days")
            what = f"a lock of {tier.lock_days} day"
        else:
            loc = ("tiers", str(number), "offsite_retention")
            what = f"a {window}-day shortest offsite retention, which caps the lock at {effective} day"
        problems.append((loc, f"{what} is too short for kopia datasets {kopia}: their daily full maintenance must "
                              f"run a day before the lock lapses; give the tier a lock of at least "
                              f"{KOPIA_MIN_LOCK_DAYS} days (and offsite retention above it), or use mover: restic"))
    return problems


def _has_locked_copy(inv: Inventory, ds) -> bool:
    names = {d.name for d in inv.destinations}
    if ds.destinations is not None and not set(ds.destinations) <= names:
        return False
    return any(d.offsite and capabilities_of(d.kind, getattr(d, "flavour", None)).object_lock
               for d in inv.destinations_of(ds))
