"""Integrity checks (manifests/checks.py): valid, hardened, on the plan's cadence, wired to the repositories the
backups write, free of secret values, and their scripts pass healthy repositories and fail broken ones. The
tests over every rendered job cover the drills too."""


from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from manifests import checks, drills, meta, pgbackrest, volsync, workloads
from plan.cron import Cron
from plan.model import CopyPlan
from plan.stagger import after_backups
from plan.units import CHECK_OFFSET_MINUTES
from policies.rules.support.cron import parse_cron
from runbook import pgbackrest as pgconf
from tests.manifests import crd_schema, estate
from tests.manifests.jobs import (
    PINNED,
    SENSITIVE,
    job_container,
    job_env,
    job_name,
    job_pod,
    job_script,
    nas_drill,
    pvc_copies,
    recorder,
    rendered_checks,
    rendered_drills,
    run_job,
)

# --- every object ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", estate.rendered().verification, ids=job_name)
def test_every_object_validates(job: dict[str, Any]) -> None:
    assert crd_schema.validate(job) == []


@pytest.mark.parametrize("job", estate.rendered().verification, ids=job_name)
def test_every_job_is_labelled_hardened_and_pinned(job: dict[str, Any]) -> None:
    found = job["metadata"]["labels"]
    role = found[checks.LABEL_VERIFICATION]
    assert role in (checks.CHECK, checks.DRILL)
    ds, _ = estate.dataset(found[meta.LABEL_DATASET])
    assert found == {**meta.labels(ds.name, ds.tier, found.get(meta.LABEL_DESTINATION)),
                     checks.LABEL_VERIFICATION: role}
    assert (meta.LABEL_DESTINATION in found) == (ds.source.kind != "export")
    assert job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == found
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job_pod(job)["securityContext"]["runAsNonRoot"] is True and job_pod(job)["securityContext"]["runAsUser"] > 0
    container = job_container(job)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["image"] in PINNED and not container["image"].endswith(":latest")
    ref = job_env(job)["HC_URL"]["secretKeyRef"]
    assert ref["name"] == f"{job['metadata']['labels'][meta.LABEL_DATASET]}-healthchecks"
    assert ref["key"].endswith(f"-{role}")
    assert all("value" not in e for e in job_container(job)["env"] if e["name"] == "HC_URL"), "never a plaintext URL"


def test_estate_renders_every_kind_of_check_and_drill() -> None:
    tools = {(j["metadata"]["labels"][checks.LABEL_VERIFICATION], job_container(j)["name"])
             for j in estate.rendered().verification}
    assert tools == {("check", "restic"), ("check", "kopia"), ("check", "pgbackrest"), ("drill", "pgbackrest"),
                     ("drill", "sqlite"), ("drill", "pg-dump"), ("drill", "rclone")}


def test_no_secret_value_reaches_a_job() -> None:
    text = json.dumps(estate.rendered().verification)
    assert "repository_password" not in text and "SecretRef" not in text
    for job in estate.rendered().verification:
        for entry in job_container(job)["env"]:
            if any(word in entry["name"] for word in SENSITIVE):
                assert "value" not in entry and "secretKeyRef" in entry["valueFrom"], f"{job_name(job)} {entry['name']}"


# --- cadence --------------------------------------------------------------------------------------------------------


def _gap_days(job: dict[str, Any]) -> float:
    gap = parse_cron(job["spec"]["schedule"]).max_gap_hours()
    assert gap is not None
    return gap / 24


def test_tier1_checks_every_copy_weekly_and_drills_monthly() -> None:
    for name in ("vaultwarden", "paperless", "immich-db"):
        ds, dp = estate.dataset(name)
        checks = rendered_checks(name)
        assert [j["metadata"]["labels"][meta.LABEL_DESTINATION] for j in checks] == [c.destination for c in dp.copies]
        for job in checks:
            _, _, dom, month, dow = job["spec"]["schedule"].split()
            assert (dom, month) == ("*", "*") and dow in {str(d) for d in range(7)}
            assert _gap_days(job) == 7 == dp.verify_every_days
    (drill,) = rendered_drills("immich-db")
    _, _, dom, month, dow = drill["spec"]["schedule"].split()
    assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
    assert 28 <= _gap_days(drill) <= 31
    for name in ("grafana-db", "immich-dump"):
        (drill,) = rendered_drills(name)
        assert 28 <= _gap_days(drill) <= 31
    drill = nas_drill().cronjob
    _, _, dom, month, dow = drill["spec"]["schedule"].split()
    assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
    assert 28 <= _gap_days(drill) <= 31


def test_tier2_checks_monthly_and_drills_nothing() -> None:
    for name in ("grafana", "home-assistant-config"):
        ds, dp = estate.dataset(name)
        assert dp.verify_every_days == 30 and dp.drill_every_days == 0
        checks = rendered_checks(name)
        assert len(checks) == len(dp.copies)
        for job in checks:
            _, _, dom, month, dow = job["spec"]["schedule"].split()
            assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
            assert _gap_days(job) <= 31, "the pack accepts a monthly run for a 30-day cadence"
        assert not any(j["metadata"]["name"].endswith("-drill") for j in estate.rendered().verification
                       if j["metadata"]["labels"][meta.LABEL_DATASET] == name)


def test_tier3_and_zero_cadences_render_nothing() -> None:
    ds, dp = estate.dataset("sonarr")
    assert checks.checks(ds, estate.PINGS) == []
    ds, dp = estate.dataset("immich-db")
    assert checks.checks(estate.unit(ds.name, replace(dp, verify_every_days=0)), None) == []
    assert drills.drill(estate.unit(ds.name, replace(dp, drill_every_days=0)), None) is None


@pytest.mark.parametrize(("ds", "dp", "copy"), pvc_copies(), ids=lambda v: getattr(v, "key", ""))
def test_pvc_checks_start_two_hours_after_repository_maintenance(ds: Any, dp: Any, copy: CopyPlan) -> None:
    (job,) = [j for j in checks.checks(ds, None)
              if j["metadata"]["labels"][meta.LABEL_DESTINATION] == copy.destination]
    minute, hour = (int(f) for f in job["spec"]["schedule"].split()[:2])
    maintenance = ds.copy_objects(copy.destination).maintenance or Cron(after_backups(copy.schedule, 0))
    assert (hour * 60 + minute - maintenance.minute_of_day) % (24 * 60) == CHECK_OFFSET_MINUTES


# --- wiring to the repositories -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ds", "dp", "copy"), pvc_copies(), ids=lambda v: getattr(v, "key", ""))
def test_pvc_check_reads_the_copys_repository_secret_and_nfs_export(ds: Any, dp: Any, copy: CopyPlan) -> None:
    (job,) = [j for j in checks.checks(ds, estate.PINGS)
              if j["metadata"]["labels"][meta.LABEL_DESTINATION] == copy.destination]
    read_only_key = ds.source.mover == "kopia" and copy.kind != "nfs"
    secret = volsync.reader_secret(ds, copy) if read_only_key else volsync.repository_secret(ds, copy)
    container = job_container(job)
    assert container["envFrom"] == [{"secretRef": {"name": secret.name}}]
    assert secret.name == next(j.secret for j in ds.checks if j.destination == copy.destination)
    if read_only_key:
        # The same repository settings, with the copy's read-only key in place of the writer's.
        writer = volsync.repository_secret(ds, copy).data
        assert {k: v for k, v in secret.data.items() if not k.startswith("AWS_")} == \
            {k: v for k, v in writer.items() if not k.startswith("AWS_")}
        assert secret.data["AWS_ACCESS_KEY_ID"].name == "reader_access_key_id"
        assert secret.data["AWS_SECRET_ACCESS_KEY"].name == "reader_secret_access_key"
    assert job_env(job)["HC_URL"] == estate.ping_ref(ds.name, f"{copy.healthcheck_slug}-check")
    assert container["name"] == ds.source.mover
    assert job_pod(job)["securityContext"]["runAsUser"] == (ds.source.run_as_user or checks.NOBODY)
    source = volsync.replication_source(ds, copy, estate.inventory().kubernetes)
    mover_volumes = source["spec"][ds.source.mover].get("moverVolumes", [])
    repository = [v for v in job_pod(job)["volumes"] if v["name"] == "repository"]
    if copy.kind != "nfs":
        assert mover_volumes == [] and repository == []
        return
    (mover_volume,) = mover_volumes
    read_only = ds.source.mover == "kopia"
    assert repository == [{"name": "repository", "nfs": {**mover_volume["volumeSource"]["nfs"], "readOnly": read_only}}]
    mount = f"/mnt/{mover_volume['mountPath']}"
    assert {"name": "repository", "mountPath": mount, "readOnly": read_only} in container["volumeMounts"]
    location = secret.plain().get("RESTIC_REPOSITORY") or secret.plain()["KOPIA_REPOSITORY"]
    assert location.removeprefix("filesystem://").startswith(mount + "/")


def _postgres_jobs() -> list[tuple[int, dict[str, Any]]]:
    """(repository number, job): the checks of every repository, and the drill of the first."""
    return [*enumerate(rendered_checks("immich-db"), start=1), (1, rendered_drills("immich-db")[0])]


@pytest.mark.parametrize(("repo", "job"), _postgres_jobs(), ids=lambda v: v if isinstance(v, int) else job_name(v))
def test_pgbackrest_jobs_open_the_repository_as_the_stanza_describes_it(repo: int, job: dict[str, Any]) -> None:
    ds, dp = estate.dataset("immich-db")
    copy = dp.copies[repo - 1]
    stanza = pgbackrest.stanza(ds)["spec"]["stanzaConfiguration"]
    options = pgconf.stanza_options(stanza)
    record = ds.copy_objects(copy.destination).pgbackrest
    # The rendered Stanza, read back as pgBackRest would, says what the plan's record (the runbook's source) says.
    assert {o: v for o, v in options.options.items() if o.startswith(f"repo{repo}-")} == record.options()
    assert {o: key for o, (_, key) in options.secret_options.items() if o.startswith(f"repo{repo}-")} == {
        o: pgbackrest.KEY_ACCESS_KEY_ID if f == "access_key_id" else pgbackrest.KEY_SECRET_ACCESS_KEY
        if f == "secret_access_key" else pgbackrest.KEY_CIPHER_PASS for o, f in record.secret_options().items()}
    env = job_env(job)
    assert env["STANZA"] == options.stanza == pgbackrest.stanza_config_name(ds)
    assert env["REPO"] == str(repo)
    prefix = f"repo{repo}-"
    wanted = {o: v for o, v in options.options.items() if o.startswith(prefix) and "-retention-" not in o}
    found = {pgconf.env_option(k): v for k, v in env.items()
             if k.startswith(f"PGBACKREST_REPO{repo}_") and isinstance(v, str)}
    assert found == wanted
    # The same Secret keys as the Stanza's, read from the read-only twin of its credentials Secret.
    secret = pgbackrest.reader_secret(ds, copy)
    assert set(secret.data) == set(pgbackrest.credentials_secret(ds, copy).data)
    assert {ref.name for ref in secret.data.values() if not isinstance(ref, str)} == {
        "reader_access_key_id", "reader_secret_access_key", "cipher_pass"}
    referenced = {pgconf.env_option(k): (v["secretKeyRef"]["name"], v["secretKeyRef"]["key"])
                  for k, v in env.items() if isinstance(v, dict) and k != "HC_URL"}
    stanza_refs = {o: ref for o, ref in options.secret_options.items() if o.startswith(prefix)}
    assert referenced == {o: (secret.name, key) for o, (_, key) in stanza_refs.items()}
    assert {name for name, _ in referenced.values()} == {secret.name}
    assert {key for _, key in referenced.values()} == set(secret.refs())
    assert not any(k.startswith("PGBACKREST_REPO") and not k.startswith(f"PGBACKREST_REPO{repo}_") for k in env)
    assert job_pod(job)["securityContext"]["runAsUser"] == workloads.PGBACKREST_UID
    slug = f"{copy.healthcheck_slug}-{job['metadata']['labels'][checks.LABEL_VERIFICATION]}"
    assert env["HC_URL"] == estate.ping_ref(ds.name, slug)


def test_pgbackrest_repository_env_carries_a_non_default_port() -> None:
    ds, dp = estate.dataset("immich-db")
    copy = replace(dp.copies[0], endpoint="https://s3.example.net:9443")
    ds = estate.unit(ds.name, replace(dp, copies=(copy, *dp.copies[1:])))
    plain, _ = pgbackrest.repository_env(ds, copy, 3)
    assert plain["PGBACKREST_REPO3_S3_ENDPOINT"] == "s3.example.net"
    assert plain["PGBACKREST_REPO3_STORAGE_PORT"] == "9443"
    with pytest.raises(ValueError, match="numbered from 1"):
        pgbackrest.repository_env(ds, copy, 0)


@pytest.mark.parametrize("status", [0, 1])
def test_restic_check_reports_the_tools_verdict(tmp_path: Path, status: int) -> None:
    job = rendered_checks("vaultwarden")[1]
    code, pings, _ = run_job(job, tmp_path, {"restic": recorder(tmp_path, "restic", "no errors were found", status)})
    assert (code, pings) == ((0, ["http://hc/x"]) if status == 0 else (1, ["http://hc/x/fail"]))
    assert (tmp_path / "restic.args").read_text().split() == [
        f"--cache-dir={tmp_path}/cache", "--retry-lock=30m", "check", "--read-data-subset=10%"]


KOPIA_REPOSITORIES = {
    "b2": ({"KOPIA_REPOSITORY": "s3://hlb-b2-tier1/volsync/paperless/paperless-media",
            "KOPIA_S3_ENDPOINT": "s3.us-east-005.backblazeb2.com", "AWS_REGION": "us-east-005"},
           "s3 --bucket=hlb-b2-tier1 --endpoint=s3.us-east-005.backblazeb2.com --region=us-east-005 "
           "--prefix=volsync/paperless/paperless-media/"),
    "minio": ({"KOPIA_REPOSITORY": "s3://hlb-minio-tier2/volsync/monitoring/grafana",
               "KOPIA_S3_ENDPOINT": "minio.storage.svc:9000", "AWS_REGION": "us-east-1",
               "KOPIA_S3_DISABLE_TLS": "true"},
              "s3 --bucket=hlb-minio-tier2 --endpoint=minio.storage.svc:9000 --region=us-east-1 "
              "--prefix=volsync/monitoring/grafana/ --disable-tls"),
    "nas": ({"KOPIA_REPOSITORY": "filesystem:///mnt/nas/hlb-nas-tier1/volsync/paperless/paperless-media"},
            "filesystem --path=/mnt/nas/hlb-nas-tier1/volsync/paperless/paperless-media"),
}


@pytest.mark.parametrize("where", sorted(KOPIA_REPOSITORIES))
def test_kopia_check_connects_like_the_fork_mover(tmp_path: Path, where: str) -> None:
    """Bucket and prefix (with the trailing slash the mover adds) come from the Secret's KOPIA_REPOSITORY."""
    secret_env, connect = KOPIA_REPOSITORIES[where]
    code, pings, stderr = run_job(rendered_checks("paperless")[0], tmp_path, {"kopia": recorder(tmp_path, "kopia")},
                                  secret_env)
    assert (code, pings) == (0, ["http://hc/x"]), stderr
    calls = (tmp_path / "kopia.args").read_text().splitlines()
    assert calls == [f"repository connect {connect} --readonly --content-cache-size-limit-mb=1024 "
                     "--metadata-cache-size-limit-mb=1024", "snapshot verify --verify-files-percent=10"]


def test_kopia_check_fails_without_verifying_when_connect_fails(tmp_path: Path) -> None:
    secret_env, _ = KOPIA_REPOSITORIES["nas"]
    kopia = recorder(tmp_path, "kopia", status=1)
    code, pings, _ = run_job(rendered_checks("paperless")[0], tmp_path, {"kopia": kopia}, secret_env)
    assert (code, pings) == (1, ["http://hc/x/fail"])
    assert len((tmp_path / "kopia.args").read_text().splitlines()) == 1
    code, pings, _ = run_job(rendered_checks("paperless")[0], tmp_path, {}, {"KOPIA_REPOSITORY": "azure://x"})
    assert (code, pings) == (1, ["http://hc/x/fail"])


@pytest.mark.parametrize(("report", "passes"), [
    ("stanza: postgres18-immich\nstatus: ok\n  backup: 20260101-000000F, status: valid", True),
    ("stanza: postgres18-immich\nstatus: error\n  backup: 20260101-000000F, status: invalid", False),
    ("stanza: postgres18-immich\nstatus: ok\n    no archives or backups exist in the repo", False),
    ("", False),
])
def test_pgbackrest_check_reads_the_verdict_not_the_exit_status(tmp_path: Path, report: str, passes: bool) -> None:
    """pgBackRest verify exits 0 whatever it finds."""
    job = rendered_checks("immich-db")[1]
    code, pings, _ = run_job(job, tmp_path, {"pgbackrest": recorder(tmp_path, "pgbackrest", report, 0)})
    assert (code, pings) == ((0, ["http://hc/x"]) if passes else (1, ["http://hc/x/fail"]))
    assert (tmp_path / "pgbackrest.args").read_text().split() == [
        "--stanza=postgres18-immich", "--repo=2", "verify", "--output=text", "--verbose"]


@pytest.mark.parametrize("name", ["vaultwarden", "paperless"])
def test_a_check_of_a_private_ca_copy_trusts_the_ca_its_movers_use(name: str) -> None:
    ds, dp = estate.dataset(name)
    copy = replace(next(c for c in dp.copies if c.kind != "nfs"), private_ca=True)
    (job,) = checks.checks(estate.unit(ds.name, replace(dp, copies=(copy,))), estate.PINGS)
    assert job_env(job)["CA_FILE"] == "/etc/homelab-backups/ca/ca.crt"
    assert {"name": "ca", "configMap": {"name": volsync.ca_config_map_name(copy)}} in job_pod(job)["volumes"]
    mount = {"name": "ca", "mountPath": "/etc/homelab-backups/ca", "readOnly": True}
    assert mount in job_container(job)["volumeMounts"]
    script = job_script(job)
    flag = '--cacert="$CA_FILE"' if ds.source.mover == "restic" else '--root-ca-pem-path="$CA_FILE"'
    assert flag in script
    (plain,) = checks.checks(
        estate.unit(ds.name, replace(dp, copies=(replace(copy, private_ca=False),))), estate.PINGS)
    assert "CA_FILE" not in job_env(plain)



def test_pgbackrest_checks_of_a_private_ca_copy_mount_the_stanzas_ca_path() -> None:
    """The check opens the repository as the sidecar does: the Stanza's CA path, from the plan's ConfigMap."""
    ds, dp = estate.dataset("immich-db")
    copy = replace(dp.copies[0], private_ca=True)
    unit = estate.unit(ds.name, replace(dp, copies=(copy, *dp.copies[1:])))
    (first, *others) = checks.checks(unit, estate.PINGS)
    names = unit.copy_objects(copy.destination)
    path = job_env(first)["PGBACKREST_REPO1_STORAGE_CA_FILE"]
    assert path == names.pgbackrest.ca_file == f"/projected/hlb-ca/{copy.destination}.crt"
    assert {"name": "ca", "configMap": {"name": names.ca_config_map, "items": [
        {"key": volsync.CA_KEY, "path": f"{copy.destination}.crt"}]}} in job_pod(first)["volumes"]
    assert {"name": "ca", "mountPath": "/projected/hlb-ca", "readOnly": True} in job_container(first)["volumeMounts"]
    assert others
    for job in others:
        assert not any(k.endswith("STORAGE_CA_FILE") for k in job_env(job)), job["metadata"]["name"]
        assert not any(v["name"] == "ca" for v in job_pod(job)["volumes"]), job["metadata"]["name"]
