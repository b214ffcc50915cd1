"""The stand-ins' own tests serve TLS with a private CA, as PVE and PBS do by default."""

from __future__ import annotations

from typing import Any

import pytest

from tests.truenas_simulator.pki import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_pki(tmp_path_factory.mktemp("proxmox-sim-pki"))
