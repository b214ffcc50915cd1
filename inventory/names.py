"""Every name the program derives, checked against the limits of where it lands, before anything runs.

Names are built by joining inventory names with '-', so long dataset and destination names can overflow a limit,
and two different pairs can join to the same name (`a-b` + `c` and `a` + `b-c`). Both are refused here, naming
the dataset (or destination) and the field to shorten: nothing downstream ever truncates into a collision.

The parts mirror the builders in `manifests/` and `components/` (each entry says which); the property test in
tests/components/test_estate.py checks every name the program actually registers against these limits.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from inventory.models import ExportSource, Inventory, Location, PostgresSource, PvcSource, TruenasSource

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_LIMIT = 63
"""Kubernetes object names used as label values (Jobs put their name in the `job-name` label of their pods)."""
CRONJOB_LIMIT = 52
"""CronJob names leave 11 characters for the suffix of the Jobs they spawn."""
VOLSYNC_JOB_PREFIXES = {"ReplicationSource": "volsync-src-", "ReplicationDestination": "volsync-dst-"}
"""VolSync names the mover Job (and its ServiceAccount and cache PVC) `volsync-src-<name>` / `volsync-dst-<name>`."""
IAM_USER_LIMIT = 64
IAM_USER = re.compile(r"^[\w+=,.@-]+$")
B2_KEY_LIMIT = 100
B2_KEY = re.compile(r"^[A-Za-z0-9-]+$")
SLUG_LIMIT = 100
"""Healthchecks stores check names and slugs in 100-character fields."""
SLUG = re.compile(r"^[a-z0-9_-]+$")
NAS_CREDENTIAL_LIMIT = 100
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
"""Amazon S3 general purpose bucket naming rules; S3-compatible servers and R2 follow the same rules."""


@dataclass(frozen=True)
class DerivedName:
    """One name the program will create, where it must be unique, and whom to blame when it does not fit."""

    what: str
    """What the name names, e.g. `Kubernetes CronJob`."""
    scope: str
    """Where it must be unique, e.g. `namespace media`."""
    name: str
    limit: int
    loc: Location
    owner: str
    """The dataset or destination whose names build it."""
    shorten: str
    """The inventory field(s) to shorten."""


def name_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Derived names that break their limit or rule, or collide with another's, each located at its owner."""
    from plan import build_plan

    names = list(derived_names(inv, build_plan(inv)))
    problems: list[tuple[Location, str]] = []
    reported: set[tuple[Location, str]] = set()
    seen: dict[tuple[str, str, str], DerivedName] = {}
    # Only the longest overflow per owner: shortening by that much fixes every name it builds.
    longest: dict[Location, DerivedName] = {}
    for entry in names:
        if len(entry.name) > entry.limit:
            best = longest.get(entry.loc)
            if best is None or len(entry.name) - entry.limit > len(best.name) - best.limit:
                longest[entry.loc] = entry
    for entry in names:
        problem = _invalid(entry)
        if problem is not None and len(entry.name) > entry.limit and longest[entry.loc] is not entry:
            continue
        key = (entry.what, entry.scope, entry.name)
        first = seen.setdefault(key, entry)
        if problem is None and first.owner != entry.owner and (entry.loc, first.owner) not in reported:
            reported.add((entry.loc, first.owner))  # one message per colliding pair, on its first shared name
            problem = (f"{entry.what} {entry.name!r} in {entry.scope} is derived from both {first.owner!r} and "
                       f"{entry.owner!r}; rename one of them ({entry.shorten}) so the joined names differ")
        if problem is not None and (entry.loc, problem) not in reported:
            reported.add((entry.loc, problem))
            problems.append((entry.loc, problem))
    return problems


def _invalid(entry: DerivedName) -> str | None:
    if len(entry.name) > entry.limit:
        over = len(entry.name) - entry.limit
        return (f"{entry.what} {entry.name!r} derived from {entry.owner!r} is {len(entry.name)} characters, over the "
                f"limit of {entry.limit}; shorten {entry.shorten} by {over} or more")
    rule = _rule_problem(entry)
    if rule:
        return f"{entry.what} {entry.name!r} derived from {entry.owner!r} {rule}; change {entry.shorten}"
    return None


def _rule_problem(entry: DerivedName) -> str | None:
    name = entry.name
    if entry.what.startswith("Kubernetes") and not DNS_LABEL.match(name):
        return "is not a DNS label (lowercase letters, digits and '-')"
    if entry.what == "IAM user" and not IAM_USER.match(name):
        return "has characters IAM user names refuse"
    if entry.what == "B2 application key" and not B2_KEY.match(name):
        return "has characters B2 key names refuse (letters, digits and '-')"
    if entry.what == "Healthchecks slug" and not SLUG.match(name):
        return "is not a Healthchecks slug (lowercase letters, digits, '-' and '_')"
    if entry.what.endswith("bucket"):
        return bucket_name_problem(name, entry.what)
    return None


def bucket_name_problem(name: str, what: str) -> str | None:
    """Why a bucket name breaks its provider's rules (S3 general purpose, B2, R2), or None."""
    b2 = what.startswith("B2")
    floor = 6 if b2 else 3
    if len(name) < floor:
        return f"is shorter than {floor} characters"
    allowed = r"^[a-z0-9-]+$" if b2 or what.startswith("R2") else r"^[a-z0-9.-]+$"
    if not re.match(allowed, name):
        return "has characters bucket names refuse"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must start and end with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain '..', '.-' or '-.'"
    if b2 and name.startswith("b2-"):
        return "starts with 'b2-', which B2 reserves"
    reserved = next((p for p in S3_RESERVED_PREFIXES if name.startswith(p)), None)
    if reserved:
        return f"starts with {reserved!r}, which S3 bucket naming reserves"
    suffix = next((s for s in S3_RESERVED_SUFFIXES if name.endswith(s)), None)
    if suffix:
        return f"ends with {suffix!r}, which S3 bucket naming reserves"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "looks like an IP address"


BUCKET_KINDS = {"s3": "S3 bucket", "b2": "B2 bucket", "r2": "R2 bucket", "s3-compatible": "S3-compatible bucket"}


def derived_names(inv: Inventory, plan) -> Iterator[DerivedName]:
    """Every name the plan makes the program create (components and manifests), with its limit."""
    dest_index = {d.name: j for j, d in enumerate(inv.destinations)}
    dataset_index: dict[str, int] = {}
    for n, d in enumerate(inv.datasets):
        dataset_index.setdefault(d.name, n)
    for bucket in plan.buckets:
        j = dest_index[bucket.destination]
        dest = inv.destinations[j]
        field = "bucket_prefix" if dest.bucket_prefix else "the destination name (or set a short bucket_prefix)"
        yield DerivedName(BUCKET_KINDS[bucket.kind], f"{bucket.kind} {_bucket_scope(dest)}", bucket.name, 63,
                          ("destinations", j, "bucket_prefix" if dest.bucket_prefix else "name"), dest.name, field)
        for writer in bucket.writers:
            # A PBS S3 datastore's writer is named after its proxmox destination, not a dataset.
            where = (("datasets", dataset_index[writer.dataset], "name") if writer.dataset in dataset_index
                     else ("proxmox", "destinations", _proxmox_index(inv, writer.dataset), "name"))
            shorten = "the dataset name or the destination's bucket_prefix"
            # components/buckets.py: IAM users and B2 keys are `<bucket>-<dataset>-<tool>`.
            if bucket.kind == "s3":
                yield DerivedName("IAM user", "the AWS account", f"{bucket.name}-{writer.key}", IAM_USER_LIMIT,
                                  where, writer.dataset, shorten)
            if bucket.kind == "b2":
                yield DerivedName("B2 application key", "the B2 account", f"{bucket.name}-{writer.key}",
                                  B2_KEY_LIMIT, where, writer.dataset, shorten)
    for i, ds in enumerate(inv.datasets):
        yield from _dataset_names(inv, plan.dataset(ds.name), i)


def _proxmox_index(inv: Inventory, name: str) -> int:
    pve = inv.proxmox
    return next(i for i, d in enumerate(pve.destinations if pve else ()) if d.name == name)


def _bucket_scope(dest) -> str:
    from inventory.uniqueness import namespace_of

    return namespace_of(dest)


def _dataset_names(inv: Inventory, dp, i: int) -> Iterator[DerivedName]:
    ds = inv.datasets[i]
    source = ds.source
    loc: Location = ("datasets", i, "name")
    pair = "the dataset name or the destination name"
    monitoring = inv.monitoring.namespace

    def kube(kind: str, namespace: str, *parts: str, limit: int = NAME_LIMIT, shorten: str = pair):
        name = "-".join(parts)
        scope = f"namespace {namespace}"
        yield DerivedName(f"Kubernetes {kind}", scope, name, limit, loc, ds.name, shorten)
        prefix = VOLSYNC_JOB_PREFIXES.get(kind)
        if prefix:
            yield DerivedName("Kubernetes Job (VolSync mover)", scope, prefix + name, NAME_LIMIT, loc, ds.name,
                              shorten)
        if kind == "Secret":
            # stack/kubernetes.py: external-secret delivery reads store item `homelab-backups/<name>`.
            yield DerivedName("External secret store item", "the external secret store",
                              f"homelab-backups/{name}", 253, loc, ds.name, shorten)

    def slug(*parts: str, shorten: str = pair):
        yield DerivedName("Healthchecks slug", "the Healthchecks project", "-".join(parts), SLUG_LIMIT, loc,
                          ds.name, shorten)

    copies = [c for c in dp.copies if c.dataset == ds.name and c.kind != "truenas-dataset"]
    if isinstance(source, ExportSource):
        one = "the dataset name"
        # manifests/exports.py and drills.py: `<dataset>-export` and `<dataset>-drill` CronJobs.
        yield from kube("CronJob", source.namespace, ds.name, "export", limit=CRONJOB_LIMIT, shorten=one)
        yield from slug("backup", ds.name, "export", shorten=one)
        if dp.drill_every_days:
            yield from kube("CronJob", source.namespace, ds.name, "drill", limit=CRONJOB_LIMIT, shorten=one)
            yield from slug("backup", ds.name, "export", "drill", shorten=one)
        return
    if source.kind == "nas-config":
        # components/nas_config.py: one NAS cron job pinging `backup-<dataset>-export`; its copies are the target's.
        yield from slug("backup", ds.name, "export", shorten="the dataset name")
        return
    for copy in copies:
        yield from slug(copy.healthcheck_slug)
        if dp.drill_every_days:
            yield from slug(copy.healthcheck_slug, "drill")
        if dp.verify_every_days:
            yield from slug(copy.healthcheck_slug, "check")
        d = copy.destination
        if isinstance(source, PvcSource):
            # manifests/volsync.py
            yield from kube("ReplicationSource", source.namespace, ds.name, d)
            yield from kube("Secret", source.namespace, ds.name, d, "repo")
            yield from kube("ReplicationDestination", source.namespace, ds.name, d, "restore")
            if source.mover == "kopia":
                yield from kube("KopiaMaintenance", source.namespace, ds.name, d, "maintenance")
            if dp.drill_every_days:
                yield from kube("ReplicationDestination", source.namespace, ds.name, d, "drill")
                yield from kube("PersistentVolumeClaim", source.namespace, ds.name, d, "drill")
                yield from kube("CronJob", source.namespace, ds.name, d, "drill", limit=CRONJOB_LIMIT)
            if dp.verify_every_days:
                yield from kube("CronJob", source.namespace, ds.name, d, "check", limit=CRONJOB_LIMIT)
        elif isinstance(source, PostgresSource):
            # manifests/pgbackrest.py, checks.py and drills.py
            yield from kube("Secret", source.namespace, ds.name, d, "pgbackrest")
            for backup_type in ("full", "diff"):
                yield from kube("ScheduledBackup", source.namespace, ds.name, d, backup_type)
            if dp.verify_every_days:
                yield from kube("CronJob", source.namespace, ds.name, d, "check", limit=CRONJOB_LIMIT)
        elif isinstance(source, TruenasSource):
            # components/truenas.py: cloud credential `hlb-<dataset>-<destination>`; manifests/drills.py.
            yield DerivedName("TrueNAS cloud credential", "the NAS", f"hlb-{ds.name}-{d}", NAS_CREDENTIAL_LIMIT,
                              loc, ds.name, pair)
            if dp.drill_every_days and copy.offsite:
                yield from kube("Secret", monitoring, ds.name, d, "drill")
                yield from kube("CronJob", monitoring, ds.name, d, "drill", limit=CRONJOB_LIMIT)
    if isinstance(source, PostgresSource):
        yield from kube("Stanza", source.namespace, ds.name, shorten="the dataset name")
        if dp.drill_every_days and copies:
            yield from kube("CronJob", source.namespace, ds.name, "drill", limit=CRONJOB_LIMIT,
                            shorten="the dataset name")
