"""Ping Secrets: jobs read HC_URL from a Secret key; the Secret, not the job, holds the URL around the ping key."""

from __future__ import annotations

import json

import pytest

from manifests import healthchecks
from manifests.secrets import SecretTemplate, external_secret, secret_manifest
from tests.manifests import crd_schema, estate

KEY = "k3y-never-rendered_0123456789"


def _jobs() -> list[dict]:
    rendered = estate.rendered()
    return [o for o in rendered.objects() if o["kind"] == "CronJob"]


def _pinging(job: dict) -> list[dict]:
    spec = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return [e for c in spec["containers"] for e in c["env"] if e["name"] == "HC_URL"]


def test_every_pinging_job_reads_its_url_from_the_datasets_ping_secret() -> None:
    pinging = [j for j in _jobs() if _pinging(j)]
    assert len(pinging) >= 5
    for job in pinging:
        (entry,) = _pinging(job)
        assert "value" not in entry, job["metadata"]["name"]
        dataset = job["metadata"]["labels"]["backup.homelab/dataset"]
        assert entry["valueFrom"]["secretKeyRef"]["name"] == f"{dataset}-healthchecks"


def test_rendered_jobs_carry_no_ping_base() -> None:
    text = json.dumps(estate.rendered().objects())
    assert estate.HEALTHCHECKS not in text and "hc-ping.com" not in text


def test_ping_secrets_cover_exactly_the_slugs_jobs_read() -> None:
    ds, _ = estate.dataset("vaultwarden")
    jobs = [j for j in _jobs() if j["metadata"]["labels"]["backup.homelab/dataset"] == "vaultwarden"]
    (spec,) = healthchecks.ping_secrets(ds, jobs, "https://hc-ping.com/")
    wanted = {e["valueFrom"]["secretKeyRef"]["key"] for j in jobs for e in _pinging(j)}
    assert set(spec.data) == wanted and wanted
    assert spec.namespace == ds.source.namespace and spec.remote_item == "healthchecks"
    for slug, value in spec.data.items():
        assert value == SecretTemplate("https://hc-ping.com/", healthchecks.PING_KEY, f"/{slug}")
    secret = secret_manifest(spec, lambda ref: KEY)
    assert crd_schema.validate(secret) == []
    assert secret["stringData"] == {slug: f"https://hc-ping.com/{KEY}/{slug}" for slug in wanted}


def test_the_external_secret_reads_only_the_ping_key_and_templates_the_urls() -> None:
    ds, _ = estate.dataset("vaultwarden")
    jobs = [j for j in _jobs() if j["metadata"]["labels"]["backup.homelab/dataset"] == "vaultwarden"]
    (spec,) = healthchecks.ping_secrets(ds, jobs, "https://hc-ping.com/")
    rendered = external_secret(spec, "onepassword", "homelab-backups/")
    assert crd_schema.validate(rendered) == []
    assert rendered["spec"]["data"] == [
        {"secretKey": "ping_key", "remoteRef": {"key": "homelab-backups/healthchecks", "property": "ping_key"}}]
    assert rendered["spec"]["target"]["template"]["data"] == {
        slug: "https://hc-ping.com/{{ .ping_key }}/" + slug for slug in spec.data}


def test_no_ping_secret_without_pinging_jobs() -> None:
    ds, dp = estate.dataset("vaultwarden")
    from manifests import checks

    assert healthchecks.ping_secrets(ds, checks.checks(ds, False), "https://hc-ping.com/") == []


def test_template_text_may_not_reach_the_template_engine() -> None:
    with pytest.raises(ValueError, match="template engine"):
        SecretTemplate("https://hc/{{ .x }}/", healthchecks.PING_KEY)
