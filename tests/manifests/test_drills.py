"""Restore drills (manifests/drills.py): one per unit on the copy the plan chose, reading what the backups wrote,
and their scripts pass healthy restores and fail broken ones (the NAS drill also against real rclone)."""


from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from manifests import checks, drills, meta, workloads
from manifests.secrets import SecretRef
from tests.manifests import crd_schema, estate
from tests.manifests.jobs import (
    FAKE_SQLITE3,
    job_container,
    job_env,
    job_pod,
    job_script,
    nas_drill,
    rendered_checks,
    rendered_drills,
    run_job,
)


def test_postgres_drill_restores_into_a_sized_scratch_volume() -> None:
    ds, _ = estate.dataset("immich-db")
    (drill,) = rendered_drills("immich-db")
    assert {"name": "scratch", "emptyDir": {"sizeLimit": f"{int(ds.size_gb * 2)}Gi"}} in job_pod(drill)["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in job_container(drill)["volumeMounts"]


@pytest.mark.parametrize("name", ["grafana-db", "immich-dump"])
def test_export_drill_mounts_the_dump_folder_read_only_as_the_export_job(name: str) -> None:
    ds, dp = estate.dataset(name)
    (drill,) = rendered_drills(name)
    export = next(j for j in estate.rendered().exports if j["metadata"]["labels"][meta.LABEL_DATASET] == name)
    export_nfs = next(v["nfs"] for v in job_pod(export)["volumes"] if v["name"] == "backup")
    assert {"name": "backup", "nfs": {**export_nfs, "readOnly": True}} in job_pod(drill)["volumes"]
    assert {"name": "backup", "mountPath": "/backup", "readOnly": True} in job_container(drill)["volumeMounts"]
    assert job_pod(drill)["securityContext"] == job_pod(export)["securityContext"]
    assert job_env(drill)["DUMPS"] == job_env(export)["OUT"] and job_env(drill)["PREFIX"] == name
    dump_slug = job_env(export)["HC_URL"]["secretKeyRef"]["key"]
    assert job_env(drill)["HC_URL"] == estate.ping_ref(name, dump_slug + "-drill")
    assert not any(v.get("persistentVolumeClaim") for v in job_pod(drill)["volumes"]), "never mounts the app's claim"


# --- commands -------------------------------------------------------------------------------------------------------


def test_commands_invoke_the_right_tools() -> None:
    restic = job_script(rendered_checks("vaultwarden")[0])
    assert 'restic --cache-dir=/tmp/cache ${CA_FILE:+--cacert="$CA_FILE"} --retry-lock="$RETRY_LOCK" check' in restic
    assert '--read-data-subset="$READ_PERCENT%"' in restic
    kopia = job_script(rendered_checks("paperless")[0])
    assert 'kopia repository connect "$@" --readonly' in kopia
    assert 'kopia snapshot verify --verify-files-percent="$READ_PERCENT"' in kopia
    check = job_script(rendered_checks("immich-db")[0])
    assert 'pgbackrest --stanza="$STANZA" --repo="$REPO" verify --output=text --verbose' in check
    drill = job_script(rendered_drills("immich-db")[0])
    assert 'pgbackrest --stanza="$STANZA" --repo=1 --pg1-path=/scratch/pgdata' in drill and "restore" in drill
    sqlite = job_script(rendered_drills("grafana-db")[0])
    assert "PRAGMA integrity_check" in sqlite and "sqlite_master" in sqlite and "cp " in sqlite
    pg_dump = job_script(rendered_drills("immich-dump")[0])
    assert 'pg_restore --list "$DUMPS/$newest"' in pg_dump and "TABLE DATA" in pg_dump
    assert job_env(rendered_checks("vaultwarden")[0])["READ_PERCENT"] == str(checks.READ_PERCENT)


def test_one_dispatch_per_part_covers_every_kind() -> None:
    kinds: dict[str, tuple[int, list[str] | None]] = {}
    for unit, _ in estate.pairs():
        drill = drills.drill(unit, None, nas=estate.inventory().truenas)
        counted, objects = kinds.get(unit.kind, (0, None))
        kinds[unit.kind] = (counted + len(checks.checks(unit, None)),
                            sorted(o["kind"] for o in drill.objects) if drill else objects)
    assert kinds["truenas"][0] == kinds["export"][0] == 0, "NAS datasets and exports have no integrity check"
    assert kinds["pvc"][0] and kinds["postgres"][0]
    assert kinds["pvc"][1] == ["CronJob", "PersistentVolumeClaim", "ReplicationDestination"]
    assert kinds["postgres"][1] == kinds["export"][1] == kinds["truenas"][1] == ["CronJob"]
    dump, _ = estate.dataset("grafana-db")
    with pytest.raises(ValueError, match="pass the inventory's truenas"):
        drills.drill(dump, None)


def test_without_healthchecks_jobs_only_exit_nonzero() -> None:
    ds, dp = estate.dataset("immich-db")
    for job in checks.checks(ds, None) + list(drills.drill(ds, None).objects):
        assert "HC_URL" not in job_env(job)


@pytest.mark.parametrize("restores", [True, False])
def test_postgres_drill_requires_a_data_directory(tmp_path: Path, restores: bool) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    fake = "#!/bin/sh\n" + (f"mkdir -p {scratch}/pgdata/global && echo 18 > {scratch}/pgdata/PG_VERSION && "
                            f"touch {scratch}/pgdata/global/pg_control\n" if restores else "exit 0\n")
    code, pings, _ = run_job(rendered_drills("immich-db")[0], tmp_path, {"pgbackrest": fake},
                             paths={Path("/scratch"): scratch})
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
    job = rendered_drills("grafana-db")[0]
    code, pings, stderr = run_job(job, tmp_path, tools, {"DUMPS": str(folder)})
    assert (code, pings) == (0, ["http://hc/x"]), stderr
    (folder / "grafana-db-20260102T000000Z.sqlite3").unlink()
    with sqlite3.connect(folder / "grafana-db-20260104T000000Z.sqlite3") as db:
        db.execute("pragma user_version = 1")
    code, pings, stderr = run_job(job, tmp_path, tools, {"DUMPS": str(folder)})
    assert (code, pings) == (1, ["http://hc/x/fail"]) and "no tables" in stderr
    code, pings, stderr = run_job(job, tmp_path, tools, {"DUMPS": str(tmp_path / "empty")})
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
    code, pings, _ = run_job(rendered_drills("immich-dump")[0], tmp_path, {"pg_restore": fake}, {"DUMPS": str(folder)})
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
    drill = nas_drill()
    first = next(c for c in dp.copies if c.offsite)
    assert drill.copy == first
    job = drill.cronjob
    assert job["metadata"]["namespace"] == estate.inventory().monitoring.namespace == drill.secret.namespace
    assert job["metadata"]["name"] == drill.secret.name == f"photos-{first.destination}-drill"
    assert job["metadata"]["labels"] == drill.secret.labels == {
        **meta.labels("photos", 1, first.destination), checks.LABEL_VERIFICATION: checks.DRILL}
    env = job_env(job)
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
        "ENCRYPTION_PASSWORD": drills.ENCRYPTION_PASSWORD, "ENCRYPTION_SALT": drills.ENCRYPTION_SALT,
        # The copy's read-only key: the drill lists and reads, never writes.
        "ACCESS_KEY_ID": SecretRef("reader_access_key_id"),
        "SECRET_ACCESS_KEY": SecretRef("reader_secret_access_key")}
    assert drill.secret.plain() == {}


def test_nas_drill_reads_s3_copies_through_the_s3_backend() -> None:
    ds, dp = estate.dataset("photos")
    r2_first = replace(dp, copies=tuple(sorted(dp.copies, key=lambda c: c.kind != "r2")))
    drill = drills.drill(estate.unit(ds.name, r2_first), None)
    assert drill is not None and drill.copy.kind == "r2"
    env = job_env(drill.cronjob)
    assert {k: v for k, v in env.items() if k.startswith("RCLONE_CONFIG_OFFSITE_") and isinstance(v, str)} == {
        "RCLONE_CONFIG_OFFSITE_TYPE": "s3", "RCLONE_CONFIG_OFFSITE_PROVIDER": "Cloudflare",
        "RCLONE_CONFIG_OFFSITE_REGION": "auto", "RCLONE_CONFIG_OFFSITE_ENDPOINT": drill.copy.endpoint}
    assert {k for k, v in env.items() if isinstance(v, dict)} == {
        "RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID", "RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY", "ENCRYPTION_PASSWORD",
        "ENCRYPTION_SALT"}
    assert "HC_URL" not in env


def test_nas_drill_is_hardened_bounded_and_only_reads_the_remote() -> None:
    job = nas_drill().cronjob
    assert crd_schema.validate(job) == []
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    pod, container = job_pod(job), job_container(job)
    assert container["image"] == workloads.RCLONE_IMAGE
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == checks.NOBODY
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"] == workloads.VERIFY["limits"]
    assert {"name": "scratch", "emptyDir": {"sizeLimit": drills.NAS_SCRATCH_SIZE}} in pod["volumes"]
    assert {"name": "scratch", "mountPath": "/scratch"} in container["volumeMounts"]
    calls = _rclone_calls(job_script(job))
    assert [c[0] for c in calls] == ["obscure", "obscure", "lsf", "copy", "cryptcheck"]
    assert {c[0] for c in calls} <= RCLONE_READS
    lsf, copy, cryptcheck = calls[2:]
    assert lsf[1:8] == ["-R", "--files-only", "--max-depth", '"$LIST_DEPTH"', "--min-size", "1B", "--max-size"]
    assert copy[1:6] == ["--files-from-raw", "/tmp/sample.txt", "--no-traverse", "drill:", "/scratch/restored"], \
        "copies from the remote into the scratch volume, never the other way"
    assert cryptcheck[1:5] == ["--files-from-raw", "/tmp/sample.txt", "/scratch/restored", "drill:"]
    assert 'head -n "$SAMPLE_FILES"' in job_script(job)
    env = job_env(job)
    assert (env["SAMPLE_FILES"], env["MAX_SIZE"]) == (str(drills.NAS_SAMPLE_FILES),
                                                      f"{drills.NAS_SAMPLE_MAX_MIB}M")
    sample_gib = drills.NAS_SAMPLE_FILES * drills.NAS_SAMPLE_MAX_MIB / 1024
    assert int(drills.NAS_SCRATCH_SIZE.removesuffix("Gi")) > sample_gib


def test_nas_drill_follows_the_tier_and_refuses_other_sources() -> None:
    ds, dp = estate.dataset("photos")
    assert drills.drill(estate.unit(ds.name, replace(dp, drill_every_days=0)), None) is None
    local_only = replace(dp, copies=tuple(replace(c, offsite=False) for c in dp.copies))
    assert drills.drill(estate.unit(ds.name, local_only), None) is None


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
    code, pings, stderr = run_job(nas_drill().cronjob, tmp_path, {"rclone": _fake_rclone(tmp_path, files, cryptcheck)},
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
    drill = nas_drill()
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
    code, pings, stderr = run_job(drill.cronjob, tmp_path, {}, env, paths={Path("/scratch"): scratch}, cwd=store)
    if case == "healthy":
        assert (code, pings) == (0, ["http://hc/x"]), stderr
        assert (scratch / "restored" / "#notes.txt").read_text().startswith("a name")
        assert (scratch / "restored" / "2024" / "01" / "IMG_0001.jpg").stat().st_size == 200_000
        assert not (scratch / "restored" / "empty.txt").exists(), "empty files are never sampled"
    else:
        assert (code, pings) == (1, ["http://hc/x/fail"]), stderr
        reason = "rclone copy of 2 files" if case == "corrupted" else "(wrong password or salt, or an empty copy)"
        assert reason in stderr




def test_a_pgbackrest_drill_of_a_private_ca_copy_mounts_the_stanzas_ca_path() -> None:
    ds, dp = estate.dataset("immich-db")
    copy = replace(dp.copies[0], private_ca=True)
    unit = estate.unit(ds.name, replace(dp, copies=(copy, *dp.copies[1:])))
    drill = drills.drill(unit, estate.PINGS)
    assert drill is not None and drill.copy.destination == copy.destination
    (job,) = drill.objects
    names = unit.copy_objects(copy.destination)
    assert job_env(job)["PGBACKREST_REPO1_STORAGE_CA_FILE"] == f"/projected/hlb-ca/{copy.destination}.crt"
    assert {"name": "ca", "configMap": {"name": names.ca_config_map, "items": [
        {"key": "ca.crt", "path": f"{copy.destination}.crt"}]}} in job_pod(job)["volumes"]
    assert {"name": "ca", "mountPath": "/projected/hlb-ca", "readOnly": True} in job_container(job)["volumeMounts"]
    (plain,) = drills.drill(estate.unit(ds.name, dp), estate.PINGS).objects
    assert "PGBACKREST_REPO1_STORAGE_CA_FILE" not in job_env(plain)
