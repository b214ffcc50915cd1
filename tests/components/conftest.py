"""Fixtures of the component tests: the prod stack run once per worker under mocks, as `up` and as `preview`, and
in apply mode (a cluster instead of a Flux repository); the pve stack (Pulumi.pve.yaml) as `up` and `preview`."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import PROD_ENV, run_estate, stack_config
from tests.proxmox_estate import PVE_ENV


@pytest.fixture(scope="session", params=[False, True], ids=["up", "preview"])
def prod(request):
    """(registrations, exports) of the prod stack; each component's test module reads its own part."""
    registered, exported = run_estate("prod", preview=request.param, env=PROD_ENV)
    return registered, exported


@pytest.fixture(scope="session")
def applied():
    """Registrations of the prod stack in apply mode, with Secrets delivered as real Secrets."""
    config = stack_config("prod")
    config["homelab-backups:kubernetes"] = json.dumps({"mode": "apply", "secret_delivery": "secret"})
    registered, _ = run_estate("prod", config=config, env=PROD_ENV)
    return registered


@pytest.fixture(scope="session", params=[False, True], ids=["up", "preview"])
def pve_stack(request):
    """(registrations, exports) of the second example stack; the Proxmox component modules each read their part."""
    return run_estate("pve", preview=request.param, config=stack_config("pve"), env=PVE_ENV)
