"""Where an offsite PBS datastore lives: S3-backed on `proxmox.pbs` (its bucket one of the inventory's object-storage
destinations) or on a second PBS server (`proxmox.remotes`). Cross-field rules only; the models are in
`inventory.proxmox`."""

from __future__ import annotations

from inventory.proxmox import PbsDestination, Proxmox

Location = tuple[str | int, ...]

OBJECT_STORAGE = ("b2", "s3", "r2", "s3-compatible")
"""Top-level destination kinds a PBS S3 endpoint can point at."""


def offsite_problems(inv: object, pve: Proxmox) -> list[tuple[Location, str]]:
    """Every problem of S3-backed and remote datastores and of `proxmox.remotes`, located under `proxmox`."""
    problems: list[tuple[Location, str]] = []
    declared = {r.name for r in pve.remotes}
    top = {d.name: d for d in getattr(inv, "destinations", ())}
    buckets = sorted(name for name, d in top.items() if d.kind in OBJECT_STORAGE)
    for i, dest in enumerate(pve.destinations):
        if not isinstance(dest, PbsDestination):
            continue
        # The union tag after the index, as pydantic locates fields of tagged unions: `s3` is also a destination
        # kind, and render_path drops a kind right after an index.
        at: Location = ("proxmox", "destinations", i, dest.kind)
        if dest.remote is not None and dest.remote not in declared:
            problems.append(((*at, "remote"), f"remote {dest.remote!r} is not declared under proxmox.remotes: the "
                             "program now declares the remote and its sync token itself. Add {name: "
                             f"{dest.remote}, api_url: https://<offsite pbs>:8007, token_id: <admin token there>, "
                             "fingerprint: <proxmox-backup-manager cert info>} to proxmox.remotes (then delete the "
                             f"hand-made remote {dest.remote!r} on proxmox.pbs), or remove remote for a datastore on "
                             "proxmox.pbs"))
        if dest.s3 is not None:
            backing = top.get(dest.s3)
            if backing is None or backing.kind not in OBJECT_STORAGE:
                what = "unknown destination" if backing is None else f"a {backing.kind} destination"
                problems.append(((*at, "s3"), f"{dest.s3!r} is {what}; an S3-backed datastore's bucket is one of "
                                 f"the object-storage destinations: name one of {buckets} (top-level destinations "
                                 f"of kind {', '.join(OBJECT_STORAGE)})"))
            elif backing.offsite and not (dest.offsite and dest.media == "object-storage"):
                problems.append(((*at, "s3"), f"{dest.s3!r} is offsite object storage, so this datastore is too: "
                                 "set offsite: true and media: object-storage"))
            if not 3 <= len(dest.datastore) <= 32:
                problems.append(((*at, "datastore"), f"PBS datastore names are 3 to 32 characters; "
                                 f"{dest.datastore!r} has {len(dest.datastore)}"))
    seen: dict[str, int] = {}
    pbs_url = pve.pbs.api_url if pve.pbs is not None else None
    for i, remote in enumerate(pve.remotes):
        at = ("proxmox", "remotes", i)
        if remote.name in seen:
            problems.append(((*at, "name"), f"remote {remote.name!r} is already proxmox.remotes[{seen[remote.name]}]; "
                             "names must be unique"))
        seen.setdefault(remote.name, i)
        if remote.api_url == pbs_url:
            problems.append(((*at, "api_url"), f"{remote.api_url} is proxmox.pbs itself; a datastore there needs no "
                             "remote: remove remote from its destination and this entry"))
        if remote.fingerprint is None and (remote.ca_file is not None or not remote.verify_tls):
            problems.append(((*at, "fingerprint"), "proxmox.pbs checks a remote's certificate against the public CAs "
                             "or a pinned fingerprint, and this one is signed by a private CA (ca_file) or not "
                             "verified: set fingerprint to what `proxmox-backup-manager cert info` prints on the "
                             "remote"))
    return problems
