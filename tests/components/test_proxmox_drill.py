"""components/proxmox_drill.py on the second example stack (Pulumi.pve.yaml) under mocks: one drill CronJob per
drilled guest group (tier 1 only there), the drill token's Secret apart from the coverage token's, and no token in
any input."""

from __future__ import annotations

import json

import pulumi
import pytest

from tests.components.harness import of_type, run_estate, stack_config
from tests.proxmox_estate import PVE_ENV


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


def _pve_config(**proxmox: object) -> dict[str, str]:
    config = stack_config("pve")
    config["homelab-backups:proxmox"] = json.dumps({**json.loads(config["homelab-backups:proxmox"]), **proxmox})
    return config


def _api_env(registered, name: str) -> tuple[dict, list, list]:
    (job,) = [r.inputs for r in registered if r.typ.endswith("CronJob") and r.inputs["metadata"]["name"] == name]
    spec = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return ({e["name"]: e.get("value") for e in container["env"]}, container.get("volumeMounts", []),
            spec.get("volumes", []))


def test_the_cronjobs_trust_proxmox_ca_file_as_the_provider_does(tmp_path):
    """`proxmox.ca_file` reaches the coverage check and the drills: one ConfigMap with the bundle, mounted by both."""
    bundle = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (tmp_path / "pve-ca.pem").write_text(bundle)
    registered, _ = run_estate("pve", config=_pve_config(ca_file=str(tmp_path / "pve-ca.pem")), env=PVE_ENV)
    (config_map,) = [r.inputs for r in registered if r.typ.endswith("ConfigMap")
                     and r.inputs["metadata"]["name"] == "proxmox-ca"]
    assert config_map["data"] == {"ca.pem": bundle}
    for cronjob in ("proxmox-coverage", "infra-nas-vzdump-drill"):
        env, mounts, volumes = _api_env(registered, cronjob)
        assert env["PVE_CA_FILE"] == "/etc/proxmox-ca/ca.pem" and "PVE_TLS_INSECURE" not in env, cronjob
        assert {"name": "proxmox-ca", "configMap": {"name": "proxmox-ca"}} in volumes, cronjob
        assert "/etc/proxmox-ca" in [m["mountPath"] for m in mounts], cronjob


def test_verify_tls_false_reaches_the_cronjobs_too():
    registered, _ = run_estate("pve", config=_pve_config(verify_tls=False,
                                                         verify_tls_reason="a self-signed cert on a lab node"),
                               env=PVE_ENV)
    for cronjob in ("proxmox-coverage", "infra-nas-vzdump-drill"):
        env, _, volumes = _api_env(registered, cronjob)
        assert env["PVE_TLS_INSECURE"] == "1" and "PVE_CA_FILE" not in env, cronjob
        assert "proxmox-ca" not in [v["name"] for v in volumes], cronjob


def test_an_unreadable_proxmox_ca_file_is_refused_by_field(tmp_path):
    with pytest.raises(pulumi.RunError, match=r"proxmox\.ca_file .* cannot be read"):
        run_estate("pve", config=_pve_config(ca_file=str(tmp_path / "missing.pem")), env=PVE_ENV)
