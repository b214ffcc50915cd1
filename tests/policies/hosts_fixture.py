"""A compliant host dataset for the pack's tests, its HostBackup outputs made by the program's own code from a plan:
the fixture estate (tests/policies/fixtures.py) plus a Tier 1 NixOS host copying to the NFS share and to B2."""

from __future__ import annotations

import copy
from typing import Any

from components.hosts import copy_facts
from inventory import load_inventory
from plan import build_plan
from plan.hosts import host_plan
from policies.rules.support.hosts import HOST_BACKUP
from tests.policies import fixtures as f

INVENTORY: dict[str, Any] = {
    "destinations": [{"name": "nas", "kind": "nfs", "server": "nas", "path": "/mnt/backup"},
                     {"name": "b2", "kind": "b2", "region": "us-west-004"}],
    "monitoring": {"healthchecks": {"ping_base": "https://hc-ping.com/"}},
    "datasets": [{"name": "atlas", "tier": 1, "size_gb": 5, "destinations": ["nas", "b2"],
                  "source": {"kind": "host", "hostname": "atlas", "os": "nixos", "paths": ["/etc", "/var/lib"]}}],
}


def host_outputs() -> dict[str, Any]:
    """What the atlas HostBackup component registers (the parts the pack reads)."""
    unit = build_plan(load_inventory(copy.deepcopy(INVENTORY))).unit("atlas")
    host = host_plan(unit, pings=True)
    assert unit.drill is not None
    return {"hostname": "atlas", "os": "nixos", "labels": f.labels("atlas", 1), "copies": copy_facts(host),
            "drill": {"destination": unit.drill.destination, "service": host.drill.service if host.drill else None,
                      "schedule": unit.drill.schedule.five_field(), "ping": True}}


class HostEstate(f.Estate):
    """The fixture estate with the atlas host dataset added."""

    def __init__(self) -> None:
        super().__init__()
        self.atlas = self.dataset("atlas", 1, "host", 5.0)
        self.atlas_host = self.add(HOST_BACKUP, "atlas", host_outputs(), self.atlas)

    def copy_of(self, destination: str) -> dict[str, Any]:
        return next(c for c in self.atlas_host.props["copies"] if c["destination"] == destination)


