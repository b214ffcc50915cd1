"""One source, one repository: two datasets never protect the same thing, and buckets never collide.

Two datasets on one PVC would both write `volsync/<namespace>/<claim>` with different passwords; two on one CNPG
cluster would fight over one stanza; a NAS dataset inside another's recursive snapshot is snapshotted (and pruned)
by two tasks. Every message names both datasets (or both destinations) and which one to change.
"""

from __future__ import annotations

from inventory.models import (
    B2Destination,
    Dataset,
    Inventory,
    Location,
    NfsDestination,
    PostgresSource,
    PvcSource,
    R2Destination,
    S3CompatibleDestination,
    S3Destination,
    TruenasSource,
)

TIERS = (1, 2, 3)


def uniqueness_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Shared sources, repeated destinations and colliding bucket names, each located at the later entry."""
    return _shared_sources(inv) + _repeated_destinations(inv) + _bucket_collisions(inv)


def _source_key(ds: Dataset) -> tuple[str, str, str] | None:
    source = ds.source
    if isinstance(source, PvcSource):
        return "PVC", f"{source.namespace}/{source.claim}", "claim"
    if isinstance(source, PostgresSource):
        return "CNPG cluster", f"{source.namespace}/{source.cluster}", "cluster"
    if isinstance(source, TruenasSource):
        return "NAS dataset", source.dataset, "dataset"
    return None


def _shared_sources(inv: Inventory) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    first: dict[tuple[str, str], int] = {}
    for i, ds in enumerate(inv.datasets):
        key = _source_key(ds)
        if key is None:
            continue
        what, ident, field = key
        if (what, ident) in first:
            j = first[(what, ident)]
            other = inv.datasets[j].name
            if other == ds.name:
                continue  # the same entry twice: the duplicate-name problem already says so
            problems.append((("datasets", i, "source", field),
                             f"{ds.name!r} protects the same {what} {ident!r} as {other!r} (datasets[{j}]); two "
                             "datasets would write one repository with different keys and schedules: keep one of "
                             f"them and list every destination there"))
            continue
        first[(what, ident)] = i
    problems += _nested_nas_datasets(inv)
    return problems


def _covered_by(parent: TruenasSource, child: str) -> bool:
    """Whether a recursive snapshot task of `parent` also snapshots `child`."""
    if not parent.recursive or not child.startswith(parent.dataset + "/"):
        return False
    return not any(child == ex or child.startswith(ex + "/") for ex in parent.exclude)


def _nested_nas_datasets(inv: Inventory) -> list[tuple[Location, str]]:
    nas = [(i, ds) for i, ds in enumerate(inv.datasets) if isinstance(ds.source, TruenasSource)]
    # Recursive tasks by the dataset they snapshot: each child looks up its ancestors instead of scanning every
    # NAS dataset (a scan per child was quadratic: 1.7 s of CPU at 1,000 NAS datasets).
    recursive: dict[str, list[tuple[int, Dataset]]] = {}
    for j, other in nas:
        assert isinstance(other.source, TruenasSource)
        if other.source.recursive:
            recursive.setdefault(other.source.dataset, []).append((j, other))
    problems: list[tuple[Location, str]] = []
    for i, ds in nas:
        assert isinstance(ds.source, TruenasSource)
        parts = ds.source.dataset.split("/")
        ancestors = ("/".join(parts[:k]) for k in range(1, len(parts)))
        covering = sorted(((j, other) for a in ancestors for j, other in recursive.get(a, ())
                           if i != j and _covered_by(other.source, ds.source.dataset)), key=lambda c: c[0])
        for j, other in covering:
            problems.append((("datasets", i, "source", "dataset"),
                             f"{ds.source.dataset!r} of {ds.name!r} lies inside {other.source.dataset!r}, which "
                             f"{other.name!r} (datasets[{j}]) snapshots recursively, so two tasks would snapshot "
                             f"and prune it; add {ds.source.dataset!r} to the exclude of {other.name!r} or drop "
                             f"{ds.name!r}"))
    return problems


def _repeated_destinations(inv: Inventory) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    for i, ds in enumerate(inv.datasets):
        seen: dict[str, int] = {}
        for j, name in enumerate(ds.destinations or ()):
            if name in seen:
                problems.append((("datasets", i, "destinations", j),
                                 f"{name!r} is listed twice in {ds.name!r} (first at destinations[{seen[name]}]); one "
                                 "destination holds one copy, so remove the repeat (3-2-1 counts distinct copies)"))
            seen.setdefault(name, j)
    return problems


def namespace_of(dest) -> str:
    """Where a bucket name must be unique: B2 and AWS names are global, R2 per account, others per server."""
    if isinstance(dest, B2Destination):
        return "Backblaze B2 (bucket names are global)"
    if isinstance(dest, S3Destination):
        partition = "aws-us-gov" if "-gov-" in dest.region else "aws"
        return f"Amazon S3 partition {partition} (bucket names are global)"
    if isinstance(dest, R2Destination):
        return f"R2 account {dest.account_id}"
    if isinstance(dest, S3CompatibleDestination):
        return f"endpoint {dest.endpoint}"
    assert isinstance(dest, NfsDestination)
    return f"NFS export {dest.server}:{dest.path}"


def _bucket_collisions(inv: Inventory) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    owners: dict[tuple[str, str], int] = {}
    for i, dest in enumerate(inv.destinations):
        scope = namespace_of(dest)
        clash = next((owners[(scope, dest.bucket_for(t))] for t in TIERS if (scope, dest.bucket_for(t)) in owners),
                     None)
        if clash is not None:
            other = inv.destinations[clash]
            problems.append((("destinations", i, "bucket_prefix"),
                             f"{dest.name!r} and {other.name!r} (destinations[{clash}]) would both use buckets "
                             f"named {dest.bucket_for(1).rsplit('-tier', 1)[0]}-tier<N> in {scope}; give one of them "
                             "a distinct bucket_prefix"))
            continue
        for t in TIERS:
            owners[(scope, dest.bucket_for(t))] = i
    return problems
