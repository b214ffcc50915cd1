"""components/proxmox_drill.py on the second example stack (Pulumi.pve.yaml) under mocks: one drill CronJob per
drilled guest group (tier 1 only there), the drill token's Secret apart from the coverage token's, and no token in
any input."""

from __future__ import annotations

import json

import pytest

from tests.components.harness import of_type, run_estate, stack_config
from tests.proxmox_estate import PVE_ENV


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def pve_stack(request):
    return run_estate("pve", preview=request.param, config=stack_config("pve"), env=PVE_ENV)


def test_a_drill_cronjob_per_tier_one_group_with_its_own_token(pve_stack):
    registered, _ = pve_stack
    (drills,) = of_type(registered, "proxmox:GuestDrills")
    children = {r.name: r for r in registered if r.parent == drills.urn}
    assert sorted(children) == ["proxmox-drills-healthchecks", "proxmox-drills-infra", "proxmox-drills-token"]
    cron = children["proxmox-drills-infra"].inputs
    assert cron["metadata"]["name"] == "infra-nas-vzdump-drill"
    assert cron["metadata"]["labels"]["backup.homelab/verification"] == "drill"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["PVE_TOKEN_ID"], env["SELECT_VMIDS"], env["SCRATCH_POOL"]) == ("drill@pve!restore", "100 110",
                                                                               "hlb-drill")
    text = json.dumps([r.inputs for r in registered], default=str)
    assert "SECRET-drill-token" not in text


def test_the_drill_token_secret_is_apart_from_the_coverage_tokens(pve_stack):
    registered, _ = pve_stack
    names = [r.inputs["metadata"]["name"] for r in registered if r.typ.endswith("ExternalSecret")
             and "token" in r.inputs["metadata"]["name"]]
    assert sorted(names) == ["proxmox-coverage-token", "proxmox-drill-token"]
