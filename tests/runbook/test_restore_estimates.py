"""Runbooks show each copy's restore-time estimate (plan/restore.py) next to the tier's RTO targets."""

from __future__ import annotations

from typing import Any

from runbook.render import OVERVIEW, render


def test_runbooks_show_the_estimate_next_to_the_rto(prod_outputs: dict[str, Any]) -> None:
    files = render(prod_outputs, "prod")
    overview = files[OVERVIEW]
    section = overview.split("## Restore time against the RTO\n", 1)[1].split("\n## ", 1)[0]
    # immich-photos: 900 GB from b2 at 100 Mbit/s is 20 h against Tier 1's 8 h after losing the site.
    row = next(line for line in section.splitlines() if line.startswith("| immich-photos | 1 | 900 GB |"))
    assert "after losing the site: 20.0 h from b2 (MISSES it)" in row
    assert "nearest: a NAS snapshot" in row
    vault = next(line for line in section.splitlines() if line.startswith("| vaultwarden | 1 |"))
    assert "nearest: 1 min from nas (within); after losing the site: 1 min from b2 (within)" in vault
    photos = files["immich-photos.md"]
    assert "| 20.0 h at 100 Mbit/s |" in photos
    assert "| RTO | 1 h from the nearest copy; 8 h after losing the site | estimated restore, " in photos
