"""Fixtures of the component tests: the prod stack run once per worker under mocks, as `up` and as `preview`, and
in apply mode (a cluster instead of a Flux repository); the pve stack (Pulumi.pve.yaml) as `up` and `preview`.
Every module using one of them runs on the same xdist worker (tests/conftest.py SESSION_SERVERS), so each is built
once per run; prod's `up` run is also the runbook suite's (`stack_run`)."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import PROD_ENV, run_estate, stack_config, stack_run


@pytest.fixture(scope="session", params=[False, True], ids=["up", "preview"])
def prod(request):
    """(registrations, exports) of the prod stack; each component's test module reads its own part."""
    return stack_run("prod", preview=request.param)


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
    return stack_run("pve", preview=request.param)
