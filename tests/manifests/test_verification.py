"""Integrity checks and restore drills: valid, hardened, on the tier's cadence, wired to the repositories the
backups write, free of secret values, and their scripts pass healthy backups and fail broken ones."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from manifests import meta, pgbackrest, verification, volsync, workloads
from manifests.secrets import SecretRef
from plan.model import CopyPlan
from policies.rules.support.cron import parse_cron
from runbook import pgbackrest as pgconf
from tests.manifests import crd_schema, estate
from tests.manifests.test_exports import FAKE_SQLITE3

PINNED = {workloads.RESTIC_IMAGE, workloads.KOPIA_IMAGE, workloads.PGBACKREST_IMAGE, workloads.SQLITE_IMAGE,
          workloads.PG_DUMP_IMAGE, workloads.RCLONE_IMAGE}
SENSITIVE = ("PASSWORD", "SECRET", "CIPHER_PASS", "S3_KEY")


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _container(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = _pod(job)["containers"]
    return container


def _env(job: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(job)["env"]}


def _script(job: dict[str, Any]) -> str:
    return _container(job)["command"][2]


def _checks(name: str) -> list[dict[str, Any]]:
    ds, dp = estate.dataset(name)
    return verification.integrity_checks(ds, dp, estate.PINGS)


def _drills(name: str) -> list[dict[str, Any]]:
    ds, dp = estate.dataset(name)
    return verification.restore_drills(ds, dp, estate.PINGS, nas=estate.inventory().truenas)


def _nas_drill(name: str = "photos", healthchecks: bool = estate.PINGS) -> verification.NasDrill:
    ds, dp = estate.dataset(name)
    drill = verification.nas_restore_drill(ds, dp, estate.inventory().monitoring.namespace, healthchecks)
    assert drill is not None
    return drill


def _pvc_copies() -> list[tuple[Any, Any, CopyPlan]]:
    return [(ds, dp, copy) for ds, dp in estate.pairs() if ds.source.kind == "pvc" and dp.verify_every_days
            for copy in dp.copies]


# --- every object ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", estate.rendered().verification, ids=_name)
def test_every_object_validates(job: dict[str, Any]) -> None:
    assert crd_schema.validate(job) == []


@pytest.mark.parametrize("job", estate.rendered().verification, ids=_name)
def test_every_job_is_labelled_hardened_and_pinned(job: dict[str, Any]) -> None:
    found = job["metadata"]["labels"]
    role = found[verification.LABEL_VERIFICATION]
    assert role in (verification.CHECK, verification.DRILL)
    ds, _ = estate.dataset(found[meta.LABEL_DATASET])
    assert found == {**meta.labels(ds.name, ds.tier, found.get(meta.LABEL_DESTINATION)),
                     verification.LABEL_VERIFICATION: role}
    assert (meta.LABEL_DESTINATION in found) == (ds.source.kind != "export")
    assert job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == found
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert _pod(job)["securityContext"]["runAsNonRoot"] is True and _pod(job)["securityContext"]["runAsUser"] > 0
    container = _container(job)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["image"] in PINNED and not container["image"].endswith(":latest")
    ref = _env(job)["HC_URL"]["secretKeyRef"]
    assert ref["name"] == f"{job['metadata']['labels'][meta.LABEL_DATASET]}-healthchecks"
    assert ref["key"].endswith(f"-{role}")
    assert all("value" not in e for e in _container(job)["env"] if e["name"] == "HC_URL"), "never a plaintext URL"


def test_estate_renders_every_kind_of_check_and_drill() -> None:
    tools = {(j["metadata"]["labels"][verification.LABEL_VERIFICATION], _container(j)["name"])
             for j in estate.rendered().verification}
    assert tools == {("check", "restic"), ("check", "kopia"), ("check", "pgbackrest"), ("drill", "pgbackrest"),
                     ("drill", "sqlite"), ("drill", "pg-dump"), ("drill", "rclone")}


def test_no_secret_value_reaches_a_job() -> None:
    text = json.dumps(estate.rendered().verification)
    assert "repository_password" not in text and "SecretRef" not in text
    for job in estate.rendered().verification:
        for entry in _container(job)["env"]:
            if any(word in entry["name"] for word in SENSITIVE):
                assert "value" not in entry and "secretKeyRef" in entry["valueFrom"], f"{_name(job)} {entry['name']}"


# --- cadence --------------------------------------------------------------------------------------------------------


def _gap_days(job: dict[str, Any]) -> float:
    gap = parse_cron(job["spec"]["schedule"]).max_gap_hours()
    assert gap is not None
    return gap / 24


def test_tier1_checks_every_copy_weekly_and_drills_monthly() -> None:
    for name in ("vaultwarden", "paperless", "immich-db"):
        ds, dp = estate.dataset(name)
        checks = _checks(name)
        assert [j["metadata"]["labels"][meta.LABEL_DESTINATION] for j in checks] == [c.destination for c in dp.copies]
        for job in checks:
            _, _, dom, month, dow = job["spec"]["schedule"].split()
            assert (dom, month) == ("*", "*") and dow in {str(d) for d in range(7)}
            assert _gap_days(job) == 7 == dp.verify_every_days
    (drill,) = _drills("immich-db")
    _, _, dom, month, dow = drill["spec"]["schedule"].split()
    assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
    assert 28 <= _gap_days(drill) <= 31
    for name in ("grafana-db", "immich-dump"):
        (drill,) = _drills(name)
        assert 28 <= _gap_days(drill) <= 31
    drill = _nas_drill().cronjob
    _, _, dom, month, dow = drill["spec"]["schedule"].split()
    assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
    assert 28 <= _gap_days(drill) <= 31


def test_tier2_checks_monthly_and_drills_nothing() -> None:
    for name in ("grafana", "home-assistant-config"):
        ds, dp = estate.dataset(name)
        assert dp.verify_every_days == 30 and dp.drill_every_days == 0
        checks = _checks(name)
        assert len(checks) == len(dp.copies)
        for job in checks:
            _, _, dom, month, dow = job["spec"]["schedule"].split()
            assert 2 <= int(dom) <= 27 and (month, dow) == ("*", "*")
            assert _gap_days(job) <= 31, "the pack accepts a monthly run for a 30-day cadence"
        assert not any(j["metadata"]["name"].endswith("-drill") for j in estate.rendered().verification
                       if j["metadata"]["labels"][meta.LABEL_DATASET] == name)


def test_tier3_and_zero_cadences_render_nothing() -> None:
    ds, dp = estate.dataset("sonarr")
    assert verification.integrity_checks(ds, dp, estate.PINGS) == []
    ds, dp = estate.dataset("immich-db")
    assert verification.integrity_checks(ds, replace(dp, verify_every_days=0), None) == []
    assert verification.restore_drills(ds, replace(dp, drill_every_days=0), None) == []


def test_schedule_maps_cadence_to_month_week_or_day_deterministically() -> None:
    assert verification.schedule(75, 30, "a").split()[:2] == ["15", "1"]
    monthly, weekly, daily = (verification.schedule(75, days, "a") for days in (30, 7, 1))
    assert monthly.split()[4] == "*" and 2 <= int(monthly.split()[2]) <= 27
    assert weekly.split()[2] == "*" and weekly.split()[4] in {str(d) for d in range(7)}
    assert daily.split()[2:] == ["*", "*", "*"]
    assert verification.schedule(75, 7, "a") == weekly
    assert len({verification.schedule(75, 30, f"dataset-{i}") for i in range(20)}) > 5, "days spread by hash"
    with pytest.raises(ValueError, match="schedules nothing"):
        verification.schedule(75, 0, "a")


@pytest.mark.parametrize(("ds", "dp", "copy"), _pvc_copies(), ids=lambda v: getattr(v, "key", ""))
def test_pvc_checks_start_two_hours_after_repository_maintenance(ds: Any, dp: Any, copy: CopyPlan) -> None:
    (job,) = [j for j in verification.integrity_checks(ds, dp, None)
              if j["metadata"]["labels"][meta.LABEL_DESTINATION] == copy.destination]
    minute, hour = (int(f) for f in job["spec"]["schedule"].split()[:2])
    maintenance = volsync.maintenance_schedule(copy).minute_of_day
    assert (hour * 60 + minute - maintenance) % (24 * 60) == verification.CHECK_OFFSET_MINUTES


# --- wiring to the repositories -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ds", "dp", "copy"), _pvc_copies(), ids=lambda v: getattr(v, "key", ""))
def test_pvc_check_reads_the_copys_repository_secret_and_nfs_export(ds: Any, dp: Any, copy: CopyPlan) -> None:
    (job,) = [j for j in verification.integrity_checks(ds, dp, estate.PINGS)
              if j["metadata"]["labels"][meta.LABEL_DESTINATION] == copy.destination]
    read_only_key = ds.source.mover == "kopia" and copy.kind != "nfs"
    secret = volsync.reader_secret(ds, copy) if read_only_key else volsync.repository_secret(ds, copy)
    container = _container(job)
    assert container["envFrom"] == [{"secretRef": {"name": secret.name}}]
    assert secret.name == verification.check_secret_name(ds, copy)
    if read_only_key:
        # The same repository settings, with the copy's read-only key in place of the writer's.
        writer = volsync.repository_secret(ds, copy).data
        assert {k: v for k, v in secret.data.items() if not k.startswith("AWS_")} == \
            {k: v for k, v in writer.items() if not k.startswith("AWS_")}
        assert secret.data["AWS_ACCESS_KEY_ID"].name == "reader_access_key_id"
        assert secret.data["AWS_SECRET_ACCESS_KEY"].name == "reader_secret_access_key"
    assert _env(job)["HC_URL"] == estate.ping_ref(ds.name, f"{copy.healthcheck_slug}-check")
    assert container["name"] == ds.source.mover
    assert _pod(job)["securityContext"]["runAsUser"] == (ds.source.run_as_user or verification.NOBODY)
    source = volsync.replication_source(ds, copy, estate.inventory().kubernetes)
    mover_volumes = source["spec"][ds.source.mover].get("moverVolumes", [])
    repository = [v for v in _pod(job)["volumes"] if v["name"] == "repository"]
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
    return [*enumerate(_checks("immich-db"), start=1), (1, _drills("immich-db")[0])]


@pytest.mark.parametrize(("repo", "job"), _postgres_jobs(), ids=lambda v: v if isinstance(v, int) else _name(v))
def test_pgbackrest_jobs_open_the_repository_as_the_stanza_describes_it(repo: int, job: dict[str, Any]) -> None:
    ds, dp = estate.dataset("immich-db")
    copy = dp.copies[repo - 1]
    stanza = pgbackrest.stanza(ds, dp, dp.copies)["spec"]["stanzaConfiguration"]
    options = pgconf.stanza_options(stanza)
    env = _env(job)
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
    assert _pod(job)["securityContext"]["runAsUser"] == workloads.PGBACKREST_UID
    slug = f"{copy.healthcheck_slug}-{job['metadata']['labels'][verification.LABEL_VERIFICATION]}"
    assert env["HC_URL"] == estate.ping_ref(ds.name, slug)


def test_pgbackrest_repository_env_carries_a_non_default_port() -> None:
    ds, dp = estate.dataset("immich-db")
    copy = replace(dp.copies[0], endpoint="https://s3.example.net:9443")
    plain, _ = pgbackrest.repository_env(ds, copy, 3)
    assert plain["PGBACKREST_REPO3_S3_ENDPOINT"] == "s3.example.net"
    assert plain["PGBACKREST_REPO3_STORAGE_PORT"] == "9443"
    with pytest.raises(ValueError, match="numbered from 1"):
        pgbackrest.repository_env(ds, copy, 0)


def test_postgres_drill_restores_into_a_sized_scratch_volume() -> None:
    ds, _ = estate.dataset("immich-db")
    (drill,) = _drills("immich-db")
    assert {"name": "scratch", "emptyDir": {"sizeLimit": f"{int(ds.size_gb * 2)}Gi"}} in _pod(drill)["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in _container(drill)["volumeMounts"]


@pytest.mark.parametrize("name", ["grafana-db", "immich-dump"])
def test_export_drill_mounts_the_dump_folder_read_only_as_the_export_job(name: str) -> None:
    ds, dp = estate.dataset(name)
    (drill,) = _drills(name)
    export = next(j for j in estate.rendered().exports if j["metadata"]["labels"][meta.LABEL_DATASET] == name)
    export_nfs = next(v["nfs"] for v in _pod(export)["volumes"] if v["name"] == "backup")
    assert {"name": "backup", "nfs": {**export_nfs, "readOnly": True}} in _pod(drill)["volumes"]
    assert {"name": "backup", "mountPath": "/backup", "readOnly": True} in _container(drill)["volumeMounts"]
    assert _pod(drill)["securityContext"] == _pod(export)["securityContext"]
    assert _env(drill)["DUMPS"] == _env(export)["OUT"] and _env(drill)["PREFIX"] == name
    assert _env(drill)["HC_URL"] == estate.ping_ref(name, _env(export)["HC_URL"]["secretKeyRef"]["key"] + "-drill")
    assert not any(v.get("persistentVolumeClaim") for v in _pod(drill)["volumes"]), "never mounts the app's claim"


# --- commands -------------------------------------------------------------------------------------------------------


def test_commands_invoke_the_right_tools() -> None:
    restic = _script(_checks("vaultwarden")[0])
    assert 'restic --cache-dir=/tmp/cache ${CA_FILE:+--cacert="$CA_FILE"} --retry-lock="$RETRY_LOCK" check' in restic
    assert '--read-data-subset="$READ_PERCENT%"' in restic
    kopia = _script(_checks("paperless")[0])
    assert 'kopia repository connect "$@" --readonly' in kopia
    assert 'kopia snapshot verify --verify-files-percent="$READ_PERCENT"' in kopia
    check = _script(_checks("immich-db")[0])
    assert 'pgbackrest --stanza="$STANZA" --repo="$REPO" verify --output=text --verbose' in check
    drill = _script(_drills("immich-db")[0])
    assert 'pgbackrest --stanza="$STANZA" --repo=1 --pg1-path=/scratch/pgdata' in drill and "restore" in drill
    sqlite = _script(_drills("grafana-db")[0])
    assert "PRAGMA integrity_check" in sqlite and "sqlite_master" in sqlite and "cp " in sqlite
    pg_dump = _script(_drills("immich-dump")[0])
    assert 'pg_restore --list "$DUMPS/$newest"' in pg_dump and "TABLE DATA" in pg_dump
    assert _env(_checks("vaultwarden")[0])["READ_PERCENT"] == str(verification.READ_PERCENT)


def test_wrong_sources_and_missing_inputs_are_refused() -> None:
    pvc, pvc_plan = estate.dataset("vaultwarden")
    with pytest.raises(TypeError, match="drill_objects"):
        verification.restore_drills(pvc, pvc_plan, None)
    photos, photos_plan = estate.dataset("photos")
    with pytest.raises(TypeError, match="not truenas"):
        verification.integrity_checks(photos, photos_plan, None)
    with pytest.raises(TypeError, match="truenas datasets"):
        verification.restore_drills(photos, photos_plan, None)
    dump, dump_plan = estate.dataset("grafana-db")
    with pytest.raises(TypeError, match="not export"):
        verification.integrity_checks(dump, dump_plan, None)
    with pytest.raises(ValueError, match="pass the inventory's truenas"):
        verification.restore_drills(dump, dump_plan, None)
    with pytest.raises(ValueError, match="does not describe"):
        verification.integrity_checks(pvc, photos_plan, None)


def test_without_healthchecks_jobs_only_exit_nonzero() -> None:
    ds, dp = estate.dataset("immich-db")
    for job in verification.integrity_checks(ds, dp, None) + verification.restore_drills(ds, dp, None):
        assert "HC_URL" not in _env(job)


# --- scripts, run with stand-in tools -------------------------------------------------------------------------------


def _run(job: dict[str, Any], tmp_path: Path, tools: dict[str, str], env: dict[str, str] | None = None,
         paths: dict[str, Path] | None = None, cwd: Path | None = None) -> tuple[int, list[str], str]:
    """Run a job's script with fake tools on PATH; returns (exit status, Healthchecks pings, stderr)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    hc_log = tmp_path / "hc.log"
    hc_log.unlink(missing_ok=True)
    tools = {"curl": f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> {hc_log}\n', **tools}
    for tool, body in tools.items():
        (bin_dir / tool).write_text(body)
        (bin_dir / tool).chmod(0o755)
    script = _script(job).replace("/tmp/", f"{tmp_path}/")
    for path, local in (paths or {}).items():
        script = script.replace(str(path), str(local))
    full_env = {**{k: v for k, v in _env(job).items() if isinstance(v, str)}, "HC_URL": "http://hc/x",
                "PATH": f"{bin_dir}:{os.environ['PATH']}", **(env or {})}
    result = subprocess.run(["/bin/sh", "-c", script], env=full_env, capture_output=True, text=True, check=False,
                            cwd=cwd)
    pings = hc_log.read_text().splitlines() if hc_log.exists() else []
    return result.returncode, pings, result.stderr


def _recorder(tmp_path: Path, tool: str, output: str = "", status: int = 0) -> str:
    log = tmp_path / f"{tool}.args"
    return f'#!/bin/sh\necho "$*" >> {log}\nprintf "%s\\n" "{output}"\nexit {status}\n'


@pytest.mark.parametrize("status", [0, 1])
def test_restic_check_reports_the_tools_verdict(tmp_path: Path, status: int) -> None:
    job = _checks("vaultwarden")[1]
    code, pings, _ = _run(job, tmp_path, {"restic": _recorder(tmp_path, "restic", "no errors were found", status)})
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
    code, pings, stderr = _run(_checks("paperless")[0], tmp_path, {"kopia": _recorder(tmp_path, "kopia")}, secret_env)
    assert (code, pings) == (0, ["http://hc/x"]), stderr
    calls = (tmp_path / "kopia.args").read_text().splitlines()
    assert calls == [f"repository connect {connect} --readonly --content-cache-size-limit-mb=1024 "
                     "--metadata-cache-size-limit-mb=1024", "snapshot verify --verify-files-percent=10"]


def test_kopia_check_fails_without_verifying_when_connect_fails(tmp_path: Path) -> None:
    secret_env, _ = KOPIA_REPOSITORIES["nas"]
    code, pings, _ = _run(_checks("paperless")[0], tmp_path, {"kopia": _recorder(tmp_path, "kopia", status=1)},
                          secret_env)
    assert (code, pings) == (1, ["http://hc/x/fail"])
    assert len((tmp_path / "kopia.args").read_text().splitlines()) == 1
    code, pings, _ = _run(_checks("paperless")[0], tmp_path, {}, {"KOPIA_REPOSITORY": "azure://x"})
    assert (code, pings) == (1, ["http://hc/x/fail"])


@pytest.mark.parametrize(("report", "passes"), [
    ("stanza: postgres18-immich\nstatus: ok\n  backup: 20260101-000000F, status: valid", True),
    ("stanza: postgres18-immich\nstatus: error\n  backup: 20260101-000000F, status: invalid", False),
    ("stanza: postgres18-immich\nstatus: ok\n    no archives or backups exist in the repo", False),
    ("", False),
])
def test_pgbackrest_check_reads_the_verdict_not_the_exit_status(tmp_path: Path, report: str, passes: bool) -> None:
    """pgBackRest verify exits 0 whatever it finds."""
    job = _checks("immich-db")[1]
    code, pings, _ = _run(job, tmp_path, {"pgbackrest": _recorder(tmp_path, "pgbackrest", report, 0)})
    assert (code, pings) == ((0, ["http://hc/x"]) if passes else (1, ["http://hc/x/fail"]))
    assert (tmp_path / "pgbackrest.args").read_text().split() == [
        "--stanza=postgres18-immich", "--repo=2", "verify", "--output=text", "--verbose"]


@pytest.mark.parametrize("restores", [True, False])
def test_postgres_drill_requires_a_data_directory(tmp_path: Path, restores: bool) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    fake = "#!/bin/sh\n" + (f"mkdir -p {scratch}/pgdata/global && echo 18 > {scratch}/pgdata/PG_VERSION && "
                            f"touch {scratch}/pgdata/global/pg_control\n" if restores else "exit 0\n")
    code, pings, _ = _run(_drills("immich-db")[0], tmp_path, {"pgbackrest": fake}, paths={Path("/scratch"): scratch})
    assert (code, pings) == ((0, ["http://hc/x"]) if restores else (1, ["http://hc/x/fail"]))


def _dumps(tmp_path: Path, name: str, ext: str) -> Path:
    folder = tmp_path / "backup" / name
    folder.mkdir(parents=True)
    (folder / f".{name}-20260103T000000Z.{ext}.partial").write_text("half written")
    (folder / "unrelated.txt").write_text("keep me")
    return folder


def test_sqlite_drill_checks_the_newest_dump(tmp_path: Path) -> None:
    folder = _dumps(tmp_path, "grafana-db", "sqlite3")
    (folder / "grafana-db-20260101T000000Z.sqlite3").write_text("not a database")
    with sqlite3.connect(folder / "grafana-db-20260102T000000Z.sqlite3") as db:
        db.execute("create table dashboards (id integer primary key)")
    tools = {"sqlite3": f"#!{sys.executable}\n{FAKE_SQLITE3}"}
    job = _drills("grafana-db")[0]
    code, pings, stderr = _run(job, tmp_path, tools, {"DUMPS": str(folder)})
    assert (code, pings) == (0, ["http://hc/x"]), stderr
    (folder / "grafana-db-20260102T000000Z.sqlite3").unlink()
    with sqlite3.connect(folder / "grafana-db-20260104T000000Z.sqlite3") as db:
        db.execute("pragma user_version = 1")
    code, pings, stderr = _run(job, tmp_path, tools, {"DUMPS": str(folder)})
    assert (code, pings) == (1, ["http://hc/x/fail"]) and "no tables" in stderr
    code, pings, stderr = _run(job, tmp_path, tools, {"DUMPS": str(tmp_path / "empty")})
    assert (code, pings) == (1, ["http://hc/x/fail"]) and "no grafana-db-*.sqlite3 dump" in stderr


TOC = "3412; 0 16390 TABLE DATA public assets immich"


@pytest.mark.parametrize(("toc", "reads_back", "passes"), [
    (TOC, 0, True), ("215; 1259 16390 TABLE public assets immich", 0, False), (TOC, 1, False)])
def test_pg_dump_drill_needs_table_data_that_reads_back(tmp_path: Path, toc: str, reads_back: int,
                                                        passes: bool) -> None:
    folder = _dumps(tmp_path, "immich-dump", "dump")
    for stamp in ("20260101T000000Z", "20260102T000000Z"):
        (folder / f"immich-dump-{stamp}.dump").write_text("PGDMP")
    log = tmp_path / "pg_restore.args"
    fake = (f'#!/bin/sh\necho "$*" >> {log}\ncase "$1" in --list) echo "{toc}"; exit 0;; esac\n'
            f"exit {reads_back}\n")
    code, pings, _ = _run(_drills("immich-dump")[0], tmp_path, {"pg_restore": fake}, {"DUMPS": str(folder)})
    assert (code, pings) == ((0, ["http://hc/x"]) if passes else (1, ["http://hc/x/fail"]))
    calls = log.read_text().splitlines()
    assert calls[0] == f"--list {folder}/immich-dump-20260102T000000Z.dump"
    if passes:
        assert calls[1] == f"--file=/dev/null {folder}/immich-dump-20260102T000000Z.dump"


# --- NAS restore drills ---------------------------------------------------------------------------------------------


RCLONE_READS = {"obscure", "lsf", "copy", "cryptcheck"}
"""The only rclone commands a NAS drill may run: none of them writes to a remote."""


def _rclone_calls(script: str) -> list[list[str]]:
    """Each `rclone ...` invocation of a script, as words (continuation lines joined, messages left out)."""
    code = re.sub(r'(fail|msg=)\s*"[^"]*"', "", script.replace("\\\n", " "))
    return [call.split() for call in re.findall(r"\brclone ([^|;&)\n]+)", code)]


def test_nas_drill_reads_the_first_offsite_copy_as_its_cloud_sync_task_wrote_it() -> None:
    ds, dp = estate.dataset("photos")
    drill = _nas_drill()
    first = next(c for c in dp.copies if c.offsite)
    assert drill.copy == first
    job = drill.cronjob
    assert job["metadata"]["namespace"] == estate.inventory().monitoring.namespace == drill.secret.namespace
    assert job["metadata"]["name"] == drill.secret.name == f"photos-{first.destination}-drill"
    assert job["metadata"]["labels"] == drill.secret.labels == {
        **meta.labels("photos", 1, first.destination), verification.LABEL_VERIFICATION: verification.DRILL}
    env = _env(job)
    assert env["RCLONE_CONFIG_DRILL_TYPE"] == "crypt"
    assert env["RCLONE_CONFIG_DRILL_REMOTE"] == f"offsite:{first.bucket}/{first.repository}"
    assert env["RCLONE_CONFIG_DRILL_FILENAME_ENCRYPTION"] == "standard"
    assert env["RCLONE_CONFIG"] == "/dev/null", "configuration lives in memory: the root filesystem is read-only"
    assert env["HC_URL"] == estate.ping_ref("photos", f"{first.healthcheck_slug}-drill")
    assert "RCLONE_CONFIG_DRILL_PASSWORD" not in env, "the job obscures the plain password itself"
    # B2 copies are written through TrueNAS's native B2 credential, so the drill reads them with rclone's b2 backend.
    assert first.kind == "b2" and env["RCLONE_CONFIG_OFFSITE_TYPE"] == "b2"
    referenced = {name: v["secretKeyRef"] for name, v in env.items() if isinstance(v, dict)}
    assert referenced == {
        "HC_URL": estate.ping_ref("photos", f"{first.healthcheck_slug}-drill")["secretKeyRef"],
        "RCLONE_CONFIG_OFFSITE_ACCOUNT": {"name": drill.secret.name, "key": "ACCESS_KEY_ID"},
        "RCLONE_CONFIG_OFFSITE_KEY": {"name": drill.secret.name, "key": "SECRET_ACCESS_KEY"},
        "ENCRYPTION_PASSWORD": {"name": drill.secret.name, "key": "ENCRYPTION_PASSWORD"},
        "ENCRYPTION_SALT": {"name": drill.secret.name, "key": "ENCRYPTION_SALT"},
    }
    assert drill.secret.refs() == {
        "ENCRYPTION_PASSWORD": verification.ENCRYPTION_PASSWORD, "ENCRYPTION_SALT": verification.ENCRYPTION_SALT,
        # The copy's read-only key: the drill lists and reads, never writes.
        "ACCESS_KEY_ID": SecretRef("reader_access_key_id"),
        "SECRET_ACCESS_KEY": SecretRef("reader_secret_access_key")}
    assert drill.secret.plain() == {}


def test_nas_drill_reads_s3_copies_through_the_s3_backend() -> None:
    ds, dp = estate.dataset("photos")
    r2_first = replace(dp, copies=tuple(sorted(dp.copies, key=lambda c: c.kind != "r2")))
    drill = verification.nas_restore_drill(ds, r2_first, "monitoring", None)
    assert drill is not None and drill.copy.kind == "r2"
    env = _env(drill.cronjob)
    assert {k: v for k, v in env.items() if k.startswith("RCLONE_CONFIG_OFFSITE_") and isinstance(v, str)} == {
        "RCLONE_CONFIG_OFFSITE_TYPE": "s3", "RCLONE_CONFIG_OFFSITE_PROVIDER": "Cloudflare",
        "RCLONE_CONFIG_OFFSITE_REGION": "auto", "RCLONE_CONFIG_OFFSITE_ENDPOINT": drill.copy.endpoint}
    assert {k for k, v in env.items() if isinstance(v, dict)} == {
        "RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID", "RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY", "ENCRYPTION_PASSWORD",
        "ENCRYPTION_SALT"}
    assert "HC_URL" not in env


def test_nas_drill_is_hardened_bounded_and_only_reads_the_remote() -> None:
    job = _nas_drill().cronjob
    assert crd_schema.validate(job) == []
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    pod, container = _pod(job), _container(job)
    assert container["image"] == workloads.RCLONE_IMAGE
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == verification.NOBODY
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"] == workloads.VERIFY["limits"]
    assert {"name": "scratch", "emptyDir": {"sizeLimit": verification.NAS_SCRATCH_SIZE}} in pod["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in container["volumeMounts"]
    calls = _rclone_calls(_script(job))
    assert [c[0] for c in calls] == ["obscure", "obscure", "lsf", "copy", "cryptcheck"]
    assert {c[0] for c in calls} <= RCLONE_READS
    lsf, copy, cryptcheck = calls[2:]
    assert lsf[1:8] == ["-R", "--files-only", "--max-depth", '"$LIST_DEPTH"', "--min-size", "1B", "--max-size"]
    assert copy[1:6] == ["--files-from-raw", "/tmp/sample.txt", "--no-traverse", "drill:", "/scratch/restored"], \
        "copies from the remote into the scratch volume, never the other way"
    assert cryptcheck[1:5] == ["--files-from-raw", "/tmp/sample.txt", "/scratch/restored", "drill:"]
    assert 'head -n "$SAMPLE_FILES"' in _script(job)
    env = _env(job)
    assert (env["SAMPLE_FILES"], env["MAX_SIZE"]) == (str(verification.NAS_SAMPLE_FILES),
                                                      f"{verification.NAS_SAMPLE_MAX_MIB}M")
    sample_gib = verification.NAS_SAMPLE_FILES * verification.NAS_SAMPLE_MAX_MIB / 1024
    assert int(verification.NAS_SCRATCH_SIZE.removesuffix("Gi")) > sample_gib


def test_nas_drill_follows_the_tier_and_refuses_other_sources() -> None:
    ds, dp = estate.dataset("photos")
    assert verification.nas_restore_drill(ds, replace(dp, drill_every_days=0), "monitoring", None) is None
    local_only = replace(dp, copies=tuple(replace(c, offsite=False) for c in dp.copies))
    assert verification.nas_restore_drill(ds, local_only, "monitoring", None) is None
    pvc, pvc_plan = estate.dataset("vaultwarden")
    with pytest.raises(TypeError, match="not pvc datasets"):
        verification.nas_restore_drill(pvc, pvc_plan, "monitoring", None)
    with pytest.raises(ValueError, match="does not describe"):
        verification.nas_restore_drill(ds, pvc_plan, "monitoring", None)
    with pytest.raises(TypeError, match="nas_restore_drill"):
        verification.restore_drills(ds, dp, None)


def _fake_rclone(tmp_path: Path, files: dict[str, str], cryptcheck: int = 0) -> str:
    """Stand-in rclone: lists `files`, restores them into copy's destination, answers cryptcheck with a status."""
    log = tmp_path / "rclone.args"
    listing = "".join(f"{name}\\n" for name in files)
    restore = "".join(f'mkdir -p "$(dirname "$dest/{name}")"; printf "%s" "{body}" > "$dest/{name}"\n'
                      for name, body in files.items())
    return (f'#!/bin/sh\necho "$*" >> {log}\ncase "$1" in\n'
            '  obscure) cat >/dev/null; echo obscured ;;\n'
            f'  lsf) printf "{listing}" ;;\n'
            f'  copy) for a; do dest="$a"; done\n{restore} ;;\n'
            f'  cryptcheck) exit {cryptcheck} ;;\nesac\n')


@pytest.mark.parametrize(("files", "cryptcheck", "passes"), [
    ({"2024/IMG_1.jpg": "jpeg", "#notes.txt": "hi"}, 0, True),
    ({"2024/IMG_1.jpg": "jpeg", "#notes.txt": "hi"}, 1, False),
    ({"2024/IMG_1.jpg": "jpeg", "#notes.txt": ""}, 0, False),
    ({}, 0, False),
])
def test_nas_drill_passes_only_when_every_sampled_file_restores_and_cryptchecks(
        tmp_path: Path, files: dict[str, str], cryptcheck: int, passes: bool) -> None:
    scratch = tmp_path / "scratch"
    code, pings, stderr = _run(_nas_drill().cronjob, tmp_path, {"rclone": _fake_rclone(tmp_path, files, cryptcheck)},
                               {"ENCRYPTION_PASSWORD": "pw", "ENCRYPTION_SALT": "salt"},
                               paths={Path("/scratch"): scratch})
    assert (code, pings) == ((0, ["http://hc/x"]) if passes else (1, ["http://hc/x/fail"])), stderr
    calls = [line.split()[0] for line in (tmp_path / "rclone.args").read_text().splitlines()]
    assert set(calls) <= RCLONE_READS
    if not files:
        assert calls == ["obscure", "obscure", "lsf"] and "wrong password or salt" in stderr


# --- NAS restore drill against real rclone (TrueNAS's crypt layout on a local "bucket") -----------------------------


def _truenas_push(store: Path, remote: str, password: str, salt: str, source: Path) -> None:
    """Encrypt `source` into `store/<remote>` the way TrueNAS cloud sync does: a config file with a crypt remote
    over `remote:<bucket>/<folder>`, filename encryption standard, password and salt as password/password2."""
    def obscure(value: str) -> str:
        return subprocess.run(["rclone", "obscure", value], capture_output=True, text=True, check=True).stdout.strip()

    config = store.parent / "truenas-rclone.conf"
    config.write_text(f"[encrypted]\ntype = crypt\nremote = remote:{remote}\nfilename_encryption = standard\n"
                      f"password = {obscure(password)}\npassword2 = {obscure(salt)}\n[remote]\ntype = local\n")
    subprocess.run(["rclone", "--config", str(config), "copy", str(source), "encrypted:/"], cwd=store, check=True,
                   capture_output=True)


@pytest.fixture
def real_rclone() -> str:
    """rclone from scripts/services.sh: missing, these tests skip on a workstation but fail in CI, where a silent
    skip would hide that the NAS drill was never run against the real tool."""
    found = shutil.which("rclone")
    if found is None:
        message = "rclone is not installed; run `bash scripts/services.sh install`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.mark.parametrize("case", ["healthy", "wrong-password", "corrupted", "empty"])
def test_nas_drill_decrypts_what_truenas_encrypted(tmp_path: Path, case: str, real_rclone: str) -> None:
    drill = _nas_drill()
    store, source, scratch = tmp_path / "store", tmp_path / "source", tmp_path / "scratch"
    store.mkdir()
    (source / "2024" / "01").mkdir(parents=True)
    (source / "2024" / "01" / "IMG_0001.jpg").write_bytes(os.urandom(200_000))
    (source / "#notes.txt").write_text("a name rclone's --files-from would read as a comment\n")
    (source / "empty.txt").write_text("")
    if case != "empty":
        _truenas_push(store, f"{drill.copy.bucket}/{drill.copy.repository}", "the-password", "the-salt", source)
    if case == "corrupted":
        encrypted = max((p for p in store.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
        with encrypted.open("r+b") as f:
            f.seek(100_000)
            f.write(b"X")
    env = {"RCLONE_CONFIG_OFFSITE_TYPE": "local", "RCLONE_CACHE_DIR": str(tmp_path / "cache"),
           "ENCRYPTION_PASSWORD": "not-the-password" if case == "wrong-password" else "the-password",
           "ENCRYPTION_SALT": "the-salt"}
    # The job's own remote (`offsite:<bucket>/<folder>`) resolves below the working directory on a local backend.
    code, pings, stderr = _run(drill.cronjob, tmp_path, {}, env, paths={Path("/scratch"): scratch}, cwd=store)
    if case == "healthy":
        assert (code, pings) == (0, ["http://hc/x"]), stderr
        assert (scratch / "restored" / "#notes.txt").read_text().startswith("a name")
        assert (scratch / "restored" / "2024" / "01" / "IMG_0001.jpg").stat().st_size == 200_000
        assert not (scratch / "restored" / "empty.txt").exists(), "empty files are never sampled"
    else:
        assert (code, pings) == (1, ["http://hc/x/fail"]), stderr
        reason = "rclone copy of 2 files" if case == "corrupted" else "(wrong password or salt, or an empty copy)"
        assert reason in stderr


@pytest.mark.parametrize("name", ["vaultwarden", "paperless"])
def test_a_check_of_a_private_ca_copy_trusts_the_ca_its_movers_use(name: str) -> None:
    ds, dp = estate.dataset(name)
    copy = replace(next(c for c in dp.copies if c.kind != "nfs"), private_ca=True)
    plan = replace(dp, copies=(copy,))
    (job,) = verification.integrity_checks(ds, plan, estate.PINGS)
    assert _env(job)["CA_FILE"] == "/etc/homelab-backups/ca/ca.crt"
    assert {"name": "ca", "configMap": {"name": volsync.ca_config_map_name(copy)}} in _pod(job)["volumes"]
    assert {"name": "ca", "mountPath": "/etc/homelab-backups/ca", "readOnly": True} in _container(job)["volumeMounts"]
    script = _script(job)
    flag = '--cacert="$CA_FILE"' if ds.source.mover == "restic" else '--root-ca-pem-path="$CA_FILE"'
    assert flag in script
    (plain,) = verification.integrity_checks(ds, replace(dp, copies=(replace(copy, private_ca=False),)),
                                             estate.PINGS)
    assert "CA_FILE" not in _env(plain)


def test_pgbackrest_checks_and_drills_of_a_private_ca_copy_mount_the_stanzas_ca_path() -> None:
    ds, dp = estate.dataset("immich-db")
    copy = replace(dp.copies[0], private_ca=True)
    plan = replace(dp, copies=(copy, *dp.copies[1:]))
    for job in (*verification.integrity_checks(ds, plan, estate.PINGS)[:1],
                *verification.restore_drills(ds, plan, estate.PINGS)):
        path = _env(job)["PGBACKREST_REPO1_STORAGE_CA_FILE"]
        assert path == f"/projected/hlb-ca/{copy.destination}.crt", job["metadata"]["name"]
        assert {"name": "ca", "configMap": {"name": volsync.ca_config_map_name(copy), "items": [
            {"key": volsync.CA_KEY, "path": f"{copy.destination}.crt"}]}} in _pod(job)["volumes"]
        assert {"name": "ca", "mountPath": "/projected/hlb-ca", "readOnly": True} in _container(job)["volumeMounts"]
    (_, *others) = verification.integrity_checks(ds, plan, estate.PINGS)
    for job in others:
        assert not any(k.endswith("STORAGE_CA_FILE") for k in _env(job)), job["metadata"]["name"]
