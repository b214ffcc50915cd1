"""Markdown runbooks from the stack outputs: an estate overview and one restore runbook per dataset.

Pure and deterministic: the same outputs give the same bytes (no clock, no environment, sorted where the input
order is not meaningful). Secret values appear only when `show_secrets` is set; otherwise the runbook names the
escrow path that holds each one.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from manifests.drills import S3_PROVIDERS
from runbook.diagram import mermaid, svg, three_two_one
from runbook.outputs import secret_at, secrets_shown
from runbook.pgbackrest import conf_text

TIER_NAMES = {1: "irreplaceable", 2: "important", 3: "re-downloadable"}
SOURCE_NAMES = {
    "pvc": "Kubernetes volume (PVC), backed up by VolSync",
    "postgres": "PostgreSQL on CloudNativePG, backed up by pgBackRest",
    "truenas": "ZFS dataset on the NAS: snapshots, plus cloud sync offsite",
    "export": "application dump written to the NAS (the NAS dataset then protects it)",
    "host": "files of a NixOS or Linux machine, backed up by restic from systemd timers on the host",
    "nas-config": "the NAS's own configuration and secret seed, exported by a NAS cron job into a NAS dataset",
    "proxmox": "Proxmox VE guests (VMs and containers), backed up by vzdump jobs, synced offsite by PBS",
}
GLOSSARY = [
    ("copy", "one complete, independent backup of the data in one place (the live data counts as copy 1)"),
    ("repository", "the folder in a bucket (or on the NAS) where a backup tool keeps its encrypted data"),
    ("escrow", "the repository password or cipher passphrase; without it the copy cannot be read"),
    ("RPO", "how much recent data you can lose: the longest gap between two backups"),
    ("RTO", "how long the service may be down while you restore"),
]
OVERVIEW = "README.md"
DIAGRAM = "estate.svg"
LEVEL_ORDER = ("hourly", "daily", "weekly", "monthly", "yearly")


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _retention(levels: Mapping[str, Any]) -> str:
    if not levels:
        return "-"
    if "full" in levels:
        return f"{levels['full']} full, {levels.get('diff', 0)} diff backups"
    ordered = sorted(levels.items(), key=lambda kv: LEVEL_ORDER.index(kv[0]) if kv[0] in LEVEL_ORDER else 99)
    return ", ".join(f"{n} {level}" for level, n in ordered)


def _days(days: int) -> str:
    return f"{days} d" if days else "-"


def _rto(rto: Mapping[str, int]) -> str:
    site = f"{rto['site_loss']} h after losing the site" if "site_loss" in rto else "no site-loss target (re-download)"
    return f"{rto['local']} h from the nearest copy; {site}"


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def restore_estimates(ds: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The copy that restores fastest, and the fastest that survives losing the site (offsite); None when absent.
    Copies from outputs without estimates (older stacks) are skipped."""
    timed = [c for c in ds["copies"] if "restore_estimate_hours" in c]
    fastest = min(timed, key=lambda c: c["restore_estimate_hours"], default=None)
    site = min((c for c in timed if c["offsite"]), key=lambda c: c["restore_estimate_hours"], default=None)
    return fastest, site


def _estimate(copy: Mapping[str, Any] | None, target: int | None) -> str:
    if copy is None:
        return "no copy" if target is not None else "-"
    verdict = "" if target is None else (" (within)" if copy["restore_estimate_hours"] <= target else " (MISSES it)")
    return f"{_duration(copy['restore_estimate_hours'])} from {copy['destination']}{verdict}"


def _restore_vs_rto(ds: Mapping[str, Any]) -> str:
    fastest, site = restore_estimates(ds)
    if fastest is None:
        return "-"
    rto = ds["rto_target_hours"]
    # A NAS dataset's own snapshots roll back in place, faster than any copy.
    nearest = "a NAS snapshot (rollback in place, minutes)" if ds["snapshots"] else _estimate(fastest, rto["local"])
    text = f"nearest: {nearest}"
    if "site_loss" in rto:
        text += f"; after losing the site: {_estimate(site, rto['site_loss'])}"
    return text


def _where(copy: Mapping[str, Any]) -> str:
    if copy["kind"] == "truenas-dataset":
        return f"`{copy['repository']}` on the NAS"
    if copy["kind"] == "nfs":
        return f"`{copy['endpoint']}/{copy['bucket']}/{copy['repository']}`"
    if copy["kind"] in ("pve-storage", "pbs"):
        return f"`{copy['endpoint']}` (vzdump backups, see the restore steps)"
    return f"`{copy['bucket']}/{copy['repository']}` at {copy['endpoint']}"


class _Secrets:
    """Secret values or their escrow paths, so no caller can print a value by accident."""

    def __init__(self, outputs: Mapping[str, Any], show: bool) -> None:
        self.outputs, self.show = outputs, show and secrets_shown(dict(outputs))

    def raw(self, path: str) -> str:
        if not self.show:
            return f"<{path}>"
        value = secret_at(dict(self.outputs), path)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
        return str(value)

    def note(self) -> str:
        if self.show:
            return "This runbook was generated with --show-secrets: it contains repository secrets. Store it like one."
        return ("Secret values are not in this file. Each one is named by its escrow path; read them from your "
                "password manager, or with `pulumi stack output --show-secrets --json secrets`.")


def _escrow_path(escrow: Mapping[str, Any]) -> str:
    fields = escrow.get("fields")
    return f"`{escrow['path']}`" + (f" (fields: {', '.join(fields)})" if fields else "")


def _copies_section(ds: Mapping[str, Any]) -> list[str]:
    rows = []
    for n, c in enumerate(ds["copies"], start=2):
        lock = f"{c['lock_days']} d" if c["lock_days"] else "-"
        estimate = (f"{_duration(c['restore_estimate_hours'])} at {c['restore_mbps']:g} Mbit/s"
                    if "restore_estimate_hours" in c else "-")
        rows.append((n, c["destination"], c["tool"], "yes" if c["offsite"] else "no", _where(c),
                     c["schedule"]["human"], _retention(c["retention"]), lock, estimate))
    lines = ["## Copies", "", "Copy 1 is the live data. Every other copy is listed here, nearest first.", ""]
    lines += _table(("#", "destination", "tool", "offsite", "where", "schedule", "keeps", "locked", "restore takes"),
                    rows)
    if ds["snapshots"]:
        lines += ["", "NAS snapshots (fast to restore, but on the same disks as the data, so not counted as copies):",
                  ""]
        lines += _table(("level", "keep", "minute / hour / day / month / weekday"),
                        ((s["level"], s["keep"].lower(),
                          " / ".join(s["schedule"][k] for k in ("minute", "hour", "dom", "month", "dow")))
                         for s in ds["snapshots"]))
    if ds["tier"] == 1:
        ok, counts = three_two_one(ds)
        lines += ["", f"3-2-1 rule: {'met' if ok else 'NOT MET'} ({counts}; needs 3, 2 and 1)."]
        locked = locked_offsite(ds)
        lines += ["", f"Locked offsite copy: {'on ' + ', '.join(locked) if locked else 'NONE'}. {LOCK_RULE}"]
    return lines


def _steps(steps: Iterable[Mapping[str, str]]) -> list[str]:
    lines: list[str] = []
    for n, step in enumerate(steps, start=1):
        lines += [f"{n}. **{step['title']}**", "", f"   {step['why']}", ""]
        if "command" in step:
            lines += ["   ```sh", f"   {step['command']}", "   ```", ""]
    return lines


PLACEHOLDER = r"<([a-z][a-z0-9_.:-]*)>"
"""What a value to fill in looks like in a runbook's commands: `<secrets.vaultwarden.b2>`, `<pg-data>`. Every one
used in a dataset's runbook is listed in its "Fill in" table, with where the value comes from."""
LOCAL_PLACEHOLDERS = {
    "pg-data": "an empty directory for the restored PostgreSQL data directory, owned by the user that runs "
               "PostgreSQL (for example /var/lib/postgresql/restore)",
    "target-time": "the moment to restore to, as `YYYY-MM-DD HH:MM:SS+00` (just before the bad change); leave out "
                   "`--type=time --target=... --target-action=promote` to restore the newest state",
}
"""Placeholders that describe the restoring machine rather than the backups."""


class _FillIn:
    """The placeholders a runbook's commands use, so the runbook can list each one with where its value is."""

    def __init__(self, secrets: _Secrets) -> None:
        self.secrets = secrets
        self.rows: dict[str, str] = {}

    def escrow(self, path: str, holds: str) -> str:
        value = self.secrets.raw(path)
        if not self.secrets.show:
            self.rows[value] = f"escrow: {holds}; password manager item `{path}`"
        return value

    def credential(self, dataset: str, destination: str, field: str) -> str:
        path = f"credentials.{dataset}.{destination}.{field}"
        self.rows[f"<{path}>"] = (f"writer key of the bucket ({field}): `{path}` in `pulumi stack output "
                                  "--show-secrets --json credentials` (kept with the escrow), or a new key you create "
                                  "for the bucket")
        return f"<{path}>"

    def local(self, name: str) -> str:
        self.rows[f"<{name}>"] = f"this machine: {LOCAL_PLACEHOLDERS[name]}"
        return f"<{name}>"

    def table(self) -> list[str]:
        if not self.rows:
            return []
        return (["Replace each placeholder in the commands below (angle brackets included, quotes kept):", ""]
                + _table(("placeholder", "what to put there"), ((f"`{k}`", v) for k, v in sorted(self.rows.items())))
                + [""])


def _owner(copy: Mapping[str, Any], dataset: str) -> str:
    """The dataset whose writer key a copy uses (an export's offsite copies are its target's cloud sync)."""
    return copy["escrow"]["path"].split(".")[1] if "escrow" in copy else dataset


def _restic_outside(name: str, copy: Mapping[str, Any], fill: _FillIn) -> list[str]:
    values = copy["repository_secret"]["values"]
    refs = copy["repository_secret"]["from_secrets"]
    lines = [f"### From copy `{copy['destination']}` with restic", ""]
    if copy["kind"] == "nfs":
        lines += [f"The repository is on the NAS export {copy['endpoint']}. Mount the export (or log in to the NAS) "
                  f"and point RESTIC_REPOSITORY at `<mount>/{copy['bucket']}/{copy['repository']}` instead of the "
                  "path below, which is where the backup pod mounts it.", ""]
    lines += ["On any machine with restic: these variables are the ones the backup itself uses (from the repository "
              f"Secret `{copy['repository_secret']['namespace']}/{copy['repository_secret']['name']}`):", "", "```sh"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(values.items())]
    for key, ref in sorted(refs.items()):
        if ref == "repository_password":
            value = fill.escrow(copy["escrow"]["path"], copy["escrow"]["holds"])
            lines.append(f"export {key}={shlex.quote(value)}  # escrow: {copy['escrow']['path']}")
        else:
            lines.append(f"export {key}={shlex.quote(fill.credential(name, copy['destination'], ref))}")
    lines += [
        "restic snapshots                       # lists the restore points, newest last",
        "restic restore latest --target ./restored --verify",
        "```", "",
        "`restic snapshots` only reads; `restore` writes into ./restored and never changes the repository. Check "
        "the files, then copy them where the app expects them.",
        "", "To rehearse this without touching anything (read-only, reports to Healthchecks when configured):",
        "", "```text",
        f"python -m runbook drill --dataset {name} --destination {copy['destination']} --scratch ./drill",
        "```", "",
    ]
    return lines


def _pgbackrest_outside(name: str, ds: Mapping[str, Any], fill: _FillIn) -> list[str]:
    pg = ds["postgres"]
    options: dict[str, str] = dict(pg.get("options", {}))
    for copy in ds["copies"]:
        repo = copy["pgbackrest_repository"]
        options.update(repo["values"])
        for option, ref in repo["from_secrets"].items():
            if ref == "cipher_pass":
                options[option] = fill.escrow(copy["escrow"]["path"], copy["escrow"]["holds"])
            else:
                options[option] = fill.credential(name, copy["destination"], ref)
    pg_data = fill.local("pg-data")
    conf = conf_text({"global": dict(sorted(options.items())), pg["stanza"]: {"pg1-path": pg_data}})
    run = f'pgbackrest --config="$PWD/pgbackrest.conf" --stanza={pg["stanza"]}'
    return [
        "### With pgBackRest on any machine", "",
        "When the cluster itself is gone, any machine with PostgreSQL and pgBackRest of the same major versions can "
        "rebuild the database. Run these as the user that runs PostgreSQL (for example `sudo -u postgres -i`), in "
        "a folder of its own. The configuration holds exactly the repository settings the backups use; pg1-path is "
        "where the restored data directory goes (it must be empty). On Debian and Ubuntu, pg_ctl is in "
        "/usr/lib/postgresql/<major>/bin.", "",
        "```sh",
        "install -m 600 /dev/null pgbackrest.conf   # private before the secrets go in",
        "cat > pgbackrest.conf <<'EOF'", *conf.rstrip("\n").splitlines(), "EOF",
        f"{run} info                  # backups and the WAL range you can restore to",
        f"{run} restore --type=time --target='{fill.local('target-time')}' --target-action=promote",
        "# A restored server must not archive its WAL into the repository the original cluster used:",
        f"echo 'archive_mode = off' >> {pg_data}/postgresql.auto.conf",
        f"pg_ctl -D {pg_data} -l {pg_data}/restore.log -w start   # replays WAL up to the target, then opens",
        "```", "",
        "restore reads from repo1 when it holds a backup, else from the next repository (`--repo=N` picks one). "
        "Check the tables you care about with psql before pointing the app at this server.", "",
    ]


def _rclone_remote(name: str, copy: Mapping[str, Any], fill: _FillIn) -> list[str]:
    """rclone's backend for the bucket, as TrueNAS's cloud credential configures it: B2 natively, else S3."""
    owner = _owner(copy, name)
    key_id = fill.credential(owner, copy["destination"], "access_key_id")
    key = fill.credential(owner, copy["destination"], "secret_access_key")
    if copy["kind"] == "b2":
        return ["type = b2", f"account = {key_id}", f"key = {key}"]
    lines = ["type = s3", f"provider = {S3_PROVIDERS.get(copy['kind'], 'Other')}"]
    if copy.get("region"):
        lines.append(f"region = {copy['region']}")
    if copy["kind"] != "s3":
        lines.append(f"endpoint = {copy['endpoint']}")
    return lines + [f"access_key_id = {key_id}", f"secret_access_key = {key}"]


def _rclone_outside(name: str, copy: Mapping[str, Any], fill: _FillIn) -> list[str]:
    """A TrueNAS cloud sync copy read back with rclone alone: the crypt remote the task wrote through."""
    escrow = copy["escrow"]
    password = fill.escrow(f"{escrow['path']}.password", "cloud sync encryption password (rclone crypt password)")
    salt = fill.escrow(f"{escrow['path']}.salt", "cloud sync encryption salt (rclone crypt password2)")
    folder = f"{copy['bucket']}/{copy['repository'].strip('/')}"
    config = f"rclone-{copy['destination']}.conf"
    return [
        f"### From copy `{copy['destination']}` with rclone", "",
        "Without the NAS, any machine with rclone reads the copy. TrueNAS wrote it through an rclone crypt remote "
        f"over `{folder}`, with file and folder names encrypted, its encryption password as crypt `password` and "
        "its salt as `password2`; this configuration is the same, so rclone decrypts what the task encrypted. "
        "rclone wants both values obscured, which `rclone obscure` does.", "",
        "```sh",
        f"install -m 600 /dev/null {config}   # private before the keys go in",
        f"cat > {config} <<'EOF'", "[offsite]", *_rclone_remote(name, copy, fill), "",
        "[copy]", "type = crypt", f"remote = offsite:{folder}", "filename_encryption = standard",
        "directory_name_encryption = true", "EOF",
        f'export RCLONE_CONFIG="$PWD/{config}"',
        f"export RCLONE_CONFIG_COPY_PASSWORD=$(printf '%s' {shlex.quote(password)} | rclone obscure -)",
        f"export RCLONE_CONFIG_COPY_PASSWORD2=$(printf '%s' {shlex.quote(salt)} | rclone obscure -)",
        "rclone lsf --max-depth 2 copy:          # readable names: the password and salt are right",
        "rclone copy copy: ./restored           # decrypts while downloading; crypt authenticates every block",
        "rclone cryptcheck ./restored copy:     # every restored file against the encrypted copy's checksums",
        "```", "",
        "Then copy ./restored into a new dataset (or pull it with a TrueNAS cloud sync task, direction PULL, with "
        "the same password and salt, once a NAS is back).", "",
    ]


def dataset_runbook(name: str, ds: Mapping[str, Any], outputs: Mapping[str, Any], show_secrets: bool) -> str:
    """The restore runbook of one dataset."""
    secrets = _Secrets(outputs, show_secrets)
    tier = ds["tier"]
    lines = [f"# Restore runbook: {name}", "",
             f"Tier {tier} ({TIER_NAMES[tier]}). Source: {SOURCE_NAMES[ds['source']]}.", ""]
    if "pvc" in ds:
        lines += [f"Volume: claim `{ds['pvc']['claim']}` in namespace `{ds['pvc']['namespace']}` "
                  f"(mover: {ds['pvc']['mover']}).", ""]
    if "postgres" in ds:
        lines += [f"Cluster: `{ds['postgres']['cluster']}` in namespace `{ds['postgres']['namespace']}` "
                  f"(Stanza object `{ds['postgres']['stanza_object']}`).", ""]
    if "host" in ds:
        lines += [f"Host: `{ds['host']['hostname']}` ({ds['host']['os']}), paths {', '.join(ds['host']['paths'])}; "
                  f"units: {', '.join(sorted(set(ds['host']['units'].values())))}.", ""]
    if "proxmox" in ds:
        drill = ds["proxmox"].get("drill")
        lines += [f"Guests: {ds['proxmox']['selector']}" + (f" on node {ds['proxmox']['node']}" if ds["proxmox"]["node"]
                  else "") + "." + (f" Scheduled drill: CronJob `{drill['cronjob']}` restores one of them to scratch "
                                    f"VM id {drill['scratch_vmid']} (pool {drill['pool']}) and removes it." if drill
                                    else ""), ""]
    lines += ["## Before you start", "", "Words used below:", ""]
    lines += [f"- **{term}**: {meaning}." for term, meaning in GLOSSARY]
    lines += ["", "## Targets", ""]
    lines += _table(("", "target", "as planned"), [
        ("RPO", f"{ds['rpo_target_hours']} h", f"a copy at least every {ds['rpo_hours']} h"),
        ("RTO", _rto(ds["rto_target_hours"]), f"estimated restore, {_restore_vs_rto(ds)}"),
        ("size", f"{ds['size_gb']} GB", "-"),
    ])
    lines += [""] + _copies_section(ds) + ["", "## Restore", ""]
    lines += ["Follow the steps in order. Each says what it does and why, so you can adapt it if something looks "
              "different from what it describes.", ""]
    lines += _steps(ds["restore"])
    fill = _FillIn(secrets)
    outside: list[str] = []
    for copy in ds["copies"]:
        if copy["tool"] == "restic" and "repository_secret" in copy:
            outside += _restic_outside(name, copy, fill)
        elif copy["tool"] == "cloudsync" and "escrow" in copy:
            outside += _rclone_outside(name, copy, fill)
    if "postgres" in ds and ds["copies"]:
        outside += _pgbackrest_outside(name, ds, fill)
    if outside:
        lines += ["## Restore without the cluster or the NAS", "",
                  "Use this after losing the site (no cluster, no NAS, no Pulumi state: only this runbook, the escrow "
                  "and an offsite bucket), when Kubernetes is unavailable, or to inspect a copy without touching the "
                  "app. Each part below is complete: run its commands in order in an empty folder.", ""]
        lines += fill.table() + outside
    escrowed = [c for c in ds["copies"] if "escrow" in c]
    lines += ["## Secrets this dataset needs", "", secrets.note(), ""]
    if escrowed:
        header = ("copy", "holds", "escrow path") + (("value",) if secrets.show else ())
        lines += _table(header, ((c["destination"], c["escrow"]["holds"], _escrow_path(c["escrow"]),
                                  *((f"`{secrets.raw(c['escrow']['path'])}`",) if secrets.show else ()))
                                 for c in escrowed))
    else:
        lines.append("No copy of this dataset is encrypted with a secret the program generated.")
    verification = ds["verification"]
    lines += ["", "## Checks and alerts", ""]
    lines.append(f"- integrity check: every {verification['check_every_days']} days" if
                 verification["check_every_days"] else "- integrity check: none scheduled")
    drilled = f" of the {verification['drilled_copy']} copy" if verification.get("drilled_copy") else ""
    lines.append(f"- restore drill: every {verification['drill_every_days']} days{drilled}" if
                 verification["drill_every_days"] else "- restore drill: none scheduled")
    lines.append(f"- alerts: {', '.join(ds['alerts'])}" if ds["alerts"] else "- alerts: none")
    pinged = [c for c in ds["copies"] if "healthcheck" in c]
    for c in pinged:
        extra = "".join(f", {role} `{c['healthcheck'][role]}`" for role in ("check", "drill")
                        if role in c["healthcheck"])
        backup = f"backup `{c['healthcheck']['backup']}`" if "backup" in c["healthcheck"] else "no backup slug"
        lines.append(f"- Healthchecks ({c['destination']}): check slugs {backup}{extra}")
    if pinged:
        where = pinged[0]["healthcheck"]["ping_base"]["path"]
        lines.append(f"- ping URL of a check: the ping base at `{where}` (a secret: it holds the project ping key) "
                     "followed by the slug; the checks are listed by slug on the Healthchecks project page")
    return "\n".join(lines).rstrip("\n") + "\n"


LOCK_RULE = ("Tier 1 keeps at least one offsite copy in a versioned, object-locked bucket (B2, AWS S3, or an "
             "S3-compatible server with object lock), so a stolen key or ransomware cannot delete it early. R2 buckets "
             "carry no lock rule: R2 has no versioning and its lock rules refuse the overwrites and deletes restic and "
             "pgBackRest make. Servers without object lock (Garage) hold unlocked copies only.")
"""The one lock rule, as the runbook states it (the inventory, plan and pack enforce the same)."""


def locked_offsite(ds: Mapping[str, Any]) -> list[str]:
    """Destinations holding an offsite copy of the dataset in a locked bucket."""
    return sorted({c["destination"] for c in ds["copies"] if c["offsite"] and c["lock_days"]})


def overview(runbook: Mapping[str, Any], stack: str | None) -> str:
    """The estate at a glance: tiers, datasets, 3-2-1 status of Tier 1, cost per destination, buckets."""
    datasets = runbook["datasets"]
    order = sorted(datasets, key=lambda n: (datasets[n]["tier"], n))
    title = f"# Backup runbooks ({stack} stack)" if stack else "# Backup runbooks"
    lines = [title, "", f"Generated from the stack outputs (runbook contract version {runbook['version']}). "
             "Each dataset has its own restore runbook, linked below.", "", "## Tiers", ""]
    lines += _table(("tier", "RPO", "RTO", "offsite lock", "check / drill", "datasets"), (
        (f"{t} ({TIER_NAMES[int(t)]})", f"{s['rpo_hours']} h", _rto(s["rto_hours"]),
         f"{s['lock_days']} d" if s["lock_days"] else "-",
         f"{_days(s['verify_every_days'])} / {_days(s['drill_every_days'])}",
         sum(1 for d in datasets.values() if str(d["tier"]) == t))
        for t, s in sorted(runbook["tiers"].items())))
    lines += ["", "## The estate at a glance", "",
              "Each dataset (coloured by tier), its copies (thick outline: offsite; \"locked N d\": object lock) and "
              "where they go. A Tier 1 dataset that misses 3-2-1 has a red dashed outline. "
              f"Also as [{DIAGRAM}]({DIAGRAM}).",
              "", "```mermaid", mermaid(runbook).rstrip("\n"), "```"]
    lines += ["", "## Datasets", ""]
    lines += _table(("dataset", "tier", "source", "copies", "offsite", "RPO planned / target", "runbook"), (
        (n, datasets[n]["tier"], datasets[n]["source"], datasets[n]["copies_total"], datasets[n]["offsite_copies"],
         f"{datasets[n]['rpo_hours']} h / {datasets[n]['rpo_target_hours']} h", f"[{n}.md]({n}.md)") for n in order))
    lines += ["", "## Restore time against the RTO", "",
              "Estimated from each dataset's size and the restore bandwidth of its copies' destinations (declared as "
              "`restore_mbps`, or the kind's default: LAN for the NAS, a home downlink for cloud buckets), plus the "
              "tool's own time measured by the restore drills. It leaves out fetching the escrow and rebuilding "
              "machines.", ""]
    lines += _table(("dataset", "tier", "size", "RTO", "estimated restore"), (
        (n, datasets[n]["tier"], f"{datasets[n]['size_gb']:g} GB", _rto(datasets[n]["rto_target_hours"]),
         _restore_vs_rto(datasets[n])) for n in order))
    tier1 = [n for n in order if datasets[n]["tier"] == 1]
    lines += ["", "## 3-2-1 status of Tier 1", "",
              "Tier 1 data needs 3 copies (the live data included) on 2 kinds of media, with 1 offsite.", ""]
    lines += _table(("dataset", "copies", "media", "offsite", "locked offsite", "status"), (
        (n, datasets[n]["copies_total"], ", ".join(datasets[n]["media"]), datasets[n]["offsite_copies"],
         ", ".join(locked_offsite(datasets[n])) or "NONE",
         "met" if three_two_one(datasets[n])[0] and locked_offsite(datasets[n]) else "NOT MET") for n in tier1))
    lines += ["", LOCK_RULE]
    costs = runbook["monthly_cost_usd"]
    lines += ["", "## Monthly cost per destination", ""]
    lines += _table(("destination", "USD / month"), [*((d, f"{costs[d]:.2f}") for d in sorted(costs)),
                                                     ("**total**", f"**{runbook['monthly_cost_total_usd']:.2f}**")])
    lines += ["", "## Buckets", ""]
    lines += _table(("bucket", "destination", "tier", "lock", "versioning", "writers"), (
        (b, s["destination"], s["tier"], f"{s['lock_days']} d" if s["lock_days"] else "-",
         "on" if s["versioning"] else "off", ", ".join(s["writers"])) for b, s in sorted(runbook["buckets"].items())))
    lines += ["", "## Escrow: the secrets that unlock the copies", ""]
    lines += [f"- {advice}" for advice in runbook["escrow"]["advice"]]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(outputs: Mapping[str, Any], stack: str | None = None, show_secrets: bool = False) -> dict[str, str]:
    """File name -> text: the overview (Markdown), its diagram (SVG) and one runbook per dataset (Markdown)."""
    runbook = outputs["runbook"]
    title = f"Backup estate ({stack} stack)" if stack else "Backup estate"
    files = {OVERVIEW: overview(runbook, stack), DIAGRAM: svg(runbook, title)}
    for name in sorted(runbook["datasets"]):
        files[f"{name}.md"] = dataset_runbook(name, runbook["datasets"][name], outputs, show_secrets)
    return files
