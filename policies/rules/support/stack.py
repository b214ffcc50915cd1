"""What stack rules share: the estate for this run and the requirements of each dataset's tier."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..config import TierRequirements, tier_requirements
from .estate import Copy, Dataset, Estate
from .policy import NotApplicable, StackResource


def datasets_with_requirements(
    resources: Sequence[StackResource], settings: Mapping[str, Any],
) -> tuple[Estate, list[tuple[Dataset, TierRequirements]]]:
    """The estate and each dataset whose tier the config knows (others are dataset-missing-tier's business)."""
    estate = Estate.build(resources, settings)
    if not estate.datasets:
        raise NotApplicable("the stack declares no ProtectedDataset")
    pairs = []
    for dataset in estate.datasets_sorted():
        requirements = tier_requirements(settings, dataset.tier) if dataset.tier is not None else None
        if requirements is not None:
            pairs.append((dataset, requirements))
    return estate, pairs


def copy_phrase(copy: Copy) -> str:
    """`b2 (object-storage, offsite)` for listings of a dataset's copies."""
    where = {True: "offsite", False: "local", None: "locality unknown: its bucket has no backup.homelab/offsite label"}
    via = f", via {copy.tool}" if copy.carried else ""
    return f"{copy.destination} ({copy.medium}, {where[copy.offsite]}{via})"


def copies_phrase(dataset: Dataset) -> str:
    """All copies of a dataset, or `none`."""
    return "; ".join(copy_phrase(c) for c in dataset.copies) or "none"


def own_copies(dataset: Dataset) -> Iterator[Copy]:
    """Copies the dataset's own resources make (not those its export target carries)."""
    return (c for c in dataset.copies if not c.carried)
