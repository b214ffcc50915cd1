"""The Healthchecks ping base as a credential: the key comes from a secret, or (older form) out of ping_base."""

from __future__ import annotations

import json

import pulumi

from tests.components.harness import BASE_ESTATE_ENV, inventory_config, of_type, run_estate


def test_a_key_inside_ping_base_still_works_and_the_warning_never_shows_it(monkeypatch, estate):
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    registered, exported = run_estate("test", config=inventory_config(estate), env=BASE_ESTATE_ENV)  # ping_base: https://hc-ping.com/ping-key/
    (warning,) = [w for w in warnings if "ping_base" in w]
    assert "hc-ping.com/ping-key" not in warning
    assert "write `https://hc-ping.com/` there" in warning and "credentials.healthchecks.ping_key" in warning
    tasks = [r for r in registered if r.typ.endswith("truenas:CloudSyncTask")]
    assert tasks and all("hc-ping.com/ping-key/backup-" in t.inputs["post_script"]["value"] for t in tasks)
    assert exported["secrets"]["healthchecks_ping_base"] == "https://hc-ping.com/ping-key/"
    assert "hc-ping.com/ping-key" not in json.dumps(exported["runbook"])
    for res in registered:
        if res.typ.startswith("kubernetes:"):
            assert "hc-ping.com/ping-key" not in json.dumps(res.inputs, default=str), res.urn


def test_jobs_read_their_ping_url_from_a_declared_secret(prod):
    registered, _ = prod
    externals = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r for r in registered
                 if r.typ == "kubernetes:external-secrets.io/v1:ExternalSecret"}
    pinged = 0
    for job in of_type(registered, "batch/v1:CronJob"):
        pod = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for entry in (e for c in pod["containers"] for e in c["env"] if e["name"] == "HC_URL"):
            assert "value" not in entry, job.urn
            ref = entry["valueFrom"]["secretKeyRef"]
            ext = externals[(job.inputs["metadata"]["namespace"], ref["name"])]
            template = ext.inputs["spec"]["target"]["template"]["data"][ref["key"]]
            assert template == "https://hc-ping.com/{{ .ping_key }}/" + ref["key"], job.urn
            pinged += 1
    assert pinged >= 5
