"""The plan of a NAS configuration export (`nas-config` source): where the NAS's own cron job writes it, when, and
how many it keeps. Its copies are carried from the target dataset like an export's (plan/build.py)."""

from __future__ import annotations

from typing import Any

from plan.cron import Cron
from plan.model import ExportPlan

NAS_CONFIG_TOOL = "truenas-config"
"""The unit's tool: the NAS's configuration database and secret seed, bundled as TrueNAS's `config.save` does."""


def nas_config_export(inv: Any, ds: Any, cron: Cron) -> ExportPlan:
    """The export plan of a `nas-config` dataset: the target dataset's folder named after the dataset."""
    target = next(d for d in inv.datasets if d.name == ds.source.target)
    return ExportPlan(NAS_CONFIG_TOOL, cron, target.name, f"/mnt/{target.source.dataset}/{ds.name}", ds.source.keep)
