"""Rules of the `nas-config` source: the NAS's configuration export lands in a Tier 1 NAS dataset copied offsite.

The export holds the configuration database and the secret seed that decrypts every credential stored in it, so a
rebuilt NAS gets its cloud credentials, API keys and shares back. Its copies are its target dataset's: the target
must be a `truenas` dataset at least as important, with an offsite copy (the point is surviving the NAS's loss).
"""

from __future__ import annotations

from typing import Any

Location = tuple[str | int, ...]


def nas_config_problems(inv: Any, ds: Any, by_name: dict[str, Any]) -> list[tuple[Location, str]]:
    """Problems of one `nas-config` dataset, located relative to it."""
    source = ds.source
    problems: list[tuple[Location, str]] = []
    target = by_name.get(source.target)
    if target is None or target.source.kind != "truenas":
        problems.append((("source", "target"), f"{source.target!r} is not a truenas dataset of this inventory; name "
                         "the NAS dataset that receives the configuration exports"))
    elif target.tier > ds.tier:
        problems.append((("source", "target"), f"the NAS configuration is tier {ds.tier} but {target.name!r} is "
                         f"only tier {target.tier}; raise that dataset to tier {ds.tier}"))
    elif not any(d.offsite for d in inv.destinations_of(target)):
        problems.append((("source", "target"), f"{target.name!r} has no offsite copy, and a configuration export "
                         "that lives only on the NAS is lost with it; give that dataset an offsite destination"))
    if ds.destinations:
        problems.append((("destinations",), "the configuration's copies are those of its target dataset; remove "
                         "destinations"))
    others = [d.name for d in inv.datasets if d.source.kind == "nas-config" and d.name != ds.name]
    if others:
        problems.append((("source",), f"the inventory has one NAS and {others} already exports its configuration; "
                         "keep one nas-config dataset"))
    return problems
