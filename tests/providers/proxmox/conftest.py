"""The PVE and PBS stand-ins over TLS with a private CA, and the token secret where the provider reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.proxmox_simulator import ProxmoxSimulator
from tests.truenas_simulator.pki import make_pki, server_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_pki(tmp_path_factory.mktemp("pve-pki"))


@pytest.fixture(scope="module")
def pve(pki: dict[str, Any]) -> Iterator[ProxmoxSimulator]:
    with ProxmoxSimulator("PVE", tls=server_context(pki)) as simulator:
        for vmid, node in ((100, "pve1"), (101, "pve1"), (200, "pve2"), (300, "pve2")):
            simulator.add_guest(vmid, node, "lxc" if vmid >= 200 else "qemu", pool="media" if vmid == 300 else "")
        simulator.storages |= {"truenas-backups", "pbs-tank"}
        yield simulator


@pytest.fixture(scope="module")
def pbs(pki: dict[str, Any]) -> Iterator[ProxmoxSimulator]:
    with ProxmoxSimulator("PBS", token_id="backup@pbs!homelab-backups", token_secret="pbs-secret-value",
                          tls=server_context(pki)) as simulator:
        simulator.datastores |= {"tank": {"path": "/mnt/datastore/tank"},
                                 "offsite": {"path": "/mnt/datastore/offsite"}}
        yield simulator


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch, pve: ProxmoxSimulator, pbs: ProxmoxSimulator) -> None:
    """The token secrets as a user exports them (HLB_<ENTRY>_TOKEN_SECRET)."""
    monkeypatch.setenv("HLB_PROXMOX_TOKEN_SECRET", pve.token_secret)
    monkeypatch.setenv("HLB_PBS_TOKEN_SECRET", pbs.token_secret)


@pytest.fixture
def pve_connection(pve: ProxmoxSimulator, pki: dict[str, Any]) -> dict[str, Any]:
    """The `connection` input of a PVE resource (the CA file, not verification switched off)."""
    return {"url": pve.url, "token_id": pve.token_id, "verify_tls": True, "ca_file": str(pki["ca"])}


@pytest.fixture
def pbs_connection(pbs: ProxmoxSimulator, pki: dict[str, Any]) -> dict[str, Any]:
    return {"url": pbs.url, "token_id": pbs.token_id, "verify_tls": True, "ca_file": str(pki["ca"])}
