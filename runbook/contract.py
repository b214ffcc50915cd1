"""The runbook contract: what `pulumi stack output --json` promises restore runbooks (schema version 5).

Pure data written from the plan's protection units (plan/units.py), never by rendering manifests and reading them
back; `docs/runbook-contract.v5.schema.json` describes it and tests hold the two together. Version 5 lists Proxmox
guest groups among the datasets (source `proxmox`, tool `vzdump`, copy kinds `pve-storage` and `pbs`, and a
`proxmox` entry with the jobs and the scheduled drill; issue 16): a version 4 reader switching on those values would
meet ones it does not know, so the version moves. Version 4 adds the
`kopiur` mover and tool, and `replica_of` on copies replicated from another (issue 15); the `host` and
`nas-config` sources, a host copy's `host_service`, and the MySQL/MariaDB, MongoDB, Redis and NAS configuration
dump tools (issue 17). Version 3: each
copy's `healthcheck` lists exactly the checks that ping (`check` where an integrity check reads the copy, `drill`
only on the one copy the scheduled drill restores), and `verification` names the drilled copy. Secrets (repository
passwords, cipher passphrases) are never here: the program
exports them separately as the Pulumi secret `secrets`, at the path each copy's `escrow.path` names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from inventory.hosts import HostSource
from inventory.models import ExportSource, Inventory, NasConfigSource, PostgresSource, PvcSource
from manifests.dbs import ENGINES as DB_ENGINES
from manifests.pgbackrest import PLUGIN_NAME
from plan.model import CopyPlan, Plan
from plan.proxmox import ProxmoxPlan
from plan.repositories import volsync_repository
from plan.units import ProtectionUnit
from runbook import kopiur
from runbook.dbs import restore_steps as db_restore_steps
from runbook.hosts import host_entry, host_steps
from runbook.nas_config import restore_steps as nas_config_steps
from runbook.pgbackrest import PLUGIN_FIXED
from runbook.proxmox_guests import guest_entry, guest_steps, guest_units
from runbook.steps import step

CONTRACT_VERSION = "5"
SECRETS_OUTPUT = "secrets"
PING_BASE_SECRET = "healthchecks_ping_base"
"""Key of the Healthchecks ping base (`<endpoint><ping key>/`) in `secrets`: the key fakes success pings, so it is
never in `runbook`. Underscored, so it never collides with a dataset name."""

RTO_TARGET_HOURS: dict[int, tuple[int, int | None]] = {1: (1, 8), 2: (4, 24), 3: (24, None)}
"""Per tier (from the nearest copy, after losing the site). From the homelab notes' recovery scenarios: one
service restored from a local copy within the hour for critical data, a full rebuild from offsite within a
working day; tier 3 is re-downloaded, so it has no site-loss target."""

ESCROW_HOLDS = {
    "restic": "restic repository password (RESTIC_PASSWORD)",
    "kopia": "kopia repository password (KOPIA_PASSWORD)",
    "kopiur": "kopia repository password (KOPIA_PASSWORD; a replica opens with its source's)",
    "pgbackrest": "pgBackRest repository cipher passphrase (repo<N>-cipher-pass, aes-256-cbc)",
    "cloudsync": "TrueNAS cloud sync encryption password and salt (rclone crypt; both are needed)",
}
"""Tools whose encryption secret the program generates and exports for escrow."""
ESCROW_FIELDS = {"cloudsync": ["password", "salt"]}
"""Escrowed values that are objects rather than one string: their field names."""

ESCROW_ADVICE = [
    "Read the values once with `pulumi stack output --stack <stack> --show-secrets --json secrets` and store "
    "each one in your password manager, under the path named by the copy's escrow.path.",
    "Keep a second copy outside the estate (printed, or in a password manager that does not live on the NAS "
    "or the cluster): a backup whose password only exists inside the backed-up systems is lost with them.",
    "Never change a value by editing it: a repository keeps the password it was created with. restic can add "
    "and remove keys (restic key add / remove; update the escrow in the same change); a pgBackRest cipher "
    "passphrase and a cloud sync password and salt cannot change for existing data.",
    "S3 credentials are not escrow: a lost key is replaced with a new one. With secret_delivery "
    "external-secret, the repository Secrets read every sensitive value from your secret store; the rendered "
    "ExternalSecrets name the items. Each writer's scoped S3 key is in the `credentials` secret output "
    "(dataset, then destination) and its read-only twin in `reader_credentials`: copy them into those items "
    "next to the escrowed password (fields access_key_id / secret_access_key, and reader_access_key_id / "
    "reader_secret_access_key for the `-ro` Secrets of checks and drills). The NAS restore drills read "
    "`homelab-backups/<dataset>-<destination>-drill` with fields encryption_password, encryption_salt, "
    "reader_access_key_id and reader_secret_access_key: the same escrowed values and the read-only key.",
]


def _pvc_steps(source: PvcSource) -> list[dict[str, str]]:
    ns, mover = source.namespace, source.mover
    trigger = ("kubectl -n " + ns + " patch replicationdestination <restore_object> --type merge -p "
               "'{\"spec\":{\"paused\":false,\"trigger\":{\"manual\":\"restore-'$(date +%s)'\"}}}'")
    return [
        step("Pause GitOps for the app",
              "Flux re-applies the app from git every few minutes and would start it again in the middle of the "
              "restore. <app> is the Flux Kustomization that deploys the workloads using this claim.",
              "flux suspend kustomization <app>"),
        step("Stop the app",
              f"The restore replaces the files on claim {source.claim}; a running app would write into it at the "
              "same time and leave a mix of old and new files. This scales every Deployment and StatefulSet in "
              "the namespace to zero; narrow it to the app if the namespace holds others.",
              f"kubectl -n {ns} scale deploy,sts --all --replicas=0"),
        *([step("Expect a crash-consistent copy at best",
                 f"Backups of claim {source.claim} (storage class {source.storage_class}) use copy_method Direct: "
                 "the mover reads the live files while the app runs, with no snapshot to freeze them. Files "
                 "written during a backup (databases above all) can come back torn. If the app refuses the "
                 "restored data, restore an older point in time, and protect its database with an export "
                 "dataset (pg_dump or sqlite) for a consistent copy.")]
          if source.copy_method == "Direct" else []),
        step("Choose the copy to restore from",
              "Each copy of this dataset is a complete, independent repository with its own restore object "
              "(restore_object). "
              "The first one is normally the fastest; offsite copies are the ones that survive losing the NAS."),
        step("Optionally pick an older point in time",
              f"By default the newest snapshot is restored. To go back further, set spec.{mover}.previous to skip "
              f"the N newest snapshots, or spec.{mover}.restoreAsOf to an RFC 3339 time: the newest snapshot at or "
              "before it is used.",
              f"kubectl -n {ns} edit replicationdestination <restore_object>"),
        step("Start the restore",
              "The restore object is kept paused so it can never overwrite the claim by accident. Unpausing it "
              "with a new manual trigger value runs exactly one restore into the live claim.",
              trigger),
        step("Wait for it to finish, then pause it again",
              "The restore is done when status.lastManualSync equals the trigger value you set and "
              "status.latestMoverStatus.result is Successful. Pausing it again (spec.paused: true) makes sure it "
              "cannot run a second time later.",
              f"kubectl -n {ns} get replicationdestination <restore_object> -o jsonpath='{{.status}}'"),
        step("Start the app and resume GitOps",
              "Flux scales the app back to the replica counts in git. Check the app's own health page or logs "
              "before telling anyone it is back.",
              "flux resume kustomization <app>"),
    ]


def _postgres_steps(unit: ProtectionUnit, source: PostgresSource) -> list[dict[str, str]]:
    ns, stanza = source.namespace, unit.stanza
    return [
        step("See what can be restored",
              "pgBackRest keeps full and differential base backups plus every WAL segment in between, so any moment "
              "from the first backup to the last archived WAL can be restored. The Stanza's status shows that "
              "window.",
              f"kubectl -n {ns} get stanza {stanza} -o jsonpath='{{.status.recoveryWindow}}'"),
        step("Create a new Cluster from the backup",
              f"Never restore over the running cluster {source.cluster}: a new Cluster (for example "
              f"{source.cluster}-restore) starts from the repository and leaves the original untouched for "
              "comparison. Its spec.bootstrap.recovery.source is origin, and externalClusters has an entry "
              "{name: origin, plugin: {name: " + PLUGIN_NAME + ", parameters: {stanzaRef: " + stanza +
              "}}}."),
        step("For point-in-time recovery, set a target",
              "Add spec.bootstrap.recovery.recoveryTarget.targetTime (RFC 3339, just before the bad change) so "
              "WAL replay stops there instead of at the end of the archive."),
        step("Keep the new cluster from archiving into the old repository",
              "Two clusters writing WAL into one stanza corrupt its archive. Give the new Cluster no WAL-archiver "
              "plugin until it is checked, then point it at a Stanza of its own."),
        step("Check the data, then switch the app",
              "Wait until the Cluster reports healthy, compare row counts of the tables you care about with what "
              "you expect, then point the app at the new cluster's -rw Service.",
              f"kubectl -n {ns} get cluster {source.cluster}-restore"),
    ]


def _truenas_steps(dataset: str) -> list[dict[str, str]]:
    return [
        step("Recent mistake: use the NAS snapshots",
              "Snapshots on the NAS restore in seconds and need nothing from offsite. Rolling back discards every "
              "change made after the snapshot (and newer snapshots); cloning one instead lets you copy single "
              "files out of it and keeps the dataset as it is.",
              f"zfs list -t snapshot -o name,creation {dataset}  # names start with hlb-"),
        step("Copy files out of a snapshot",
              "A clone is a writable view of the snapshot; destroy it when the files are back.",
              f"zfs clone <snapshot> {dataset.split('/')[0]}/restore-tmp"),
        step("Site loss: pull an offsite copy back",
              "Create a TrueNAS cloud sync task with direction PULL from the bucket and folder of one copy of this "
              "dataset into an empty dataset. Offsite copies are encrypted (file names too): give the task the same "
              "encryption password and salt, from the escrow listed below, or the files come back unreadable."),
    ]


def _export_steps(unit: ProtectionUnit, source: ExportSource) -> list[dict[str, str]]:
    export = unit.plan.export
    assert export is not None
    path, target = export.target_path, export.target_dataset
    first = step("Make sure the dumps are there",
                  f"The dumps live on the NAS in {path}, protected by dataset {target}. If the NAS itself is lost, "
                  f"restore {target} first (see its runbook).",
                  f"ls -1t {path}/{unit.name}-*  # newest first")
    if source.engine in DB_ENGINES:
        return [first, *db_restore_steps(source, path)]
    if source.engine == "pg_dump":
        return [first, step(
            "Load the newest dump",
            f"pg_restore recreates the objects of database {source.database_name}; --clean --if-exists drops what "
            "exists first, so the result is exactly the dump. Run it with the app stopped.",
            f"pg_restore --clean --if-exists -d {source.database_name} <newest .dump in {path}>")]
    return [first, step(
        "Put the newest backup in place",
        "The file is a complete SQLite database made with the online backup API. Stop the app so it does not "
        "hold the old file open, copy the backup over the database file (and delete any -wal / -shm files "
        "beside it), then start the app.",
        f"cp <newest .sqlite3 in {path}> <claim {source.sqlite_claim}>/{source.sqlite_path}")]


def _restore(unit: ProtectionUnit) -> list[dict[str, str]]:
    source = unit.source
    if isinstance(source, PvcSource):
        return kopiur.restore_steps(source) if source.mover == "kopiur" else _pvc_steps(source)
    if isinstance(source, PostgresSource):
        return _postgres_steps(unit, source)
    if isinstance(source, ExportSource):
        return _export_steps(unit, source)
    if isinstance(source, HostSource):
        return host_steps(unit)
    if isinstance(source, NasConfigSource):
        return nas_config_steps(unit)
    return _truenas_steps(source.dataset)


def _escrow(copy: CopyPlan, repo_index: int | None, owner: str) -> dict[str, Any] | None:
    """Where the copy's secret is exported; `owner` is the dataset whose component generated it (an export's
    offsite copies are its target dataset's cloud sync)."""
    holds = ESCROW_HOLDS.get(copy.tool)
    if holds is None or (copy.tool == "cloudsync" and not copy.offsite):
        return None
    if repo_index is not None:
        holds = holds.replace("<N>", str(repo_index))
    entry: dict[str, Any] = {"output": SECRETS_OUTPUT, "path": f"{SECRETS_OUTPUT}.{owner}.{copy.destination}",
                             "holds": holds}
    if copy.tool in ESCROW_FIELDS:
        entry["fields"] = ESCROW_FIELDS[copy.tool]
    return entry


def _healthcheck(unit: ProtectionUnit, copy: CopyPlan, pings: bool) -> dict[str, Any] | None:
    """The slugs that ping for this copy: its backups, its integrity check and, on the drilled copy only, the
    drill. A ping URL is `<ping base><slug>`, the ping base escrowed in `secrets`."""
    if not pings:
        return None
    # PVE backup jobs report through PVE's notification system, not Healthchecks: a vzdump copy has no backup slug.
    entry: dict[str, Any] = {} if copy.tool == "vzdump" else {"backup": unit.copy_objects(copy.destination).backup_slug}
    check = next((job for job in unit.checks if job.destination == copy.destination), None)
    if check is not None and copy.tool != "kopiur":  # Kopiur verifies inside its SnapshotPolicy: metrics, no ping
        entry["check"] = check.slug
    if unit.drill is not None and unit.drill.destination == copy.destination:
        entry["drill"] = unit.drill.slug
    if not entry:
        return None
    entry["ping_base"] = {"output": SECRETS_OUTPUT, "path": f"{SECRETS_OUTPUT}.{PING_BASE_SECRET}"}
    return entry


def _copy(unit: ProtectionUnit, copy: CopyPlan, index: int, pings: bool, owner: str) -> dict[str, Any]:
    names = unit.copy_objects(copy.destination)
    repo_index = index if copy.tool == "pgbackrest" else None
    entry: dict[str, Any] = {
        "destination": copy.destination,
        "kind": copy.kind,
        "offsite": copy.offsite,
        "media": copy.media,
        "tool": copy.tool,
        "bucket": copy.bucket,
        "endpoint": copy.endpoint,
        "region": copy.region,
        "repository": copy.repository,
        "schedule": {"cron": copy.schedule.five_field(), "human": f"{copy.schedule.human()} UTC"},
        "retention": copy.retention.levels(),
        "lock_days": copy.lock_days,
        "restore_mbps": copy.restore_mbps,
        "restore_estimate_hours": copy.restore_hours,
    }
    escrow, healthcheck = _escrow(copy, repo_index, owner), _healthcheck(unit, copy, pings)
    if escrow is not None:
        entry["escrow"] = escrow
    if healthcheck is not None:
        entry["healthcheck"] = healthcheck
    if names.repository is not None and names.restore_object is not None:
        entry["restore_object"] = names.restore_object
        entry["repository_secret"] = {
            "name": names.repository_secret,
            "namespace": unit.namespace,
            "values": dict(sorted(names.repository.values.items())),
            "from_secrets": dict(sorted(names.repository.secrets.items())),
        }
    if copy.tool == "kopiur" and names.restore_object is not None:
        # How kopia opens it by hand (kopia's own terms, as the kopia mover reads them): Kopiur keeps no such Secret.
        settings = volsync_repository(replace(copy, tool="kopia"))
        entry["restore_object"] = names.restore_object
        entry["repository_secret"] = {"name": names.repository_secret, "namespace": unit.namespace,
                                      "values": dict(sorted(settings.values.items())),
                                      "from_secrets": dict(sorted(settings.secrets.items()))}
        if copy.replica_of is not None:
            entry["replica_of"] = copy.replica_of
    if copy.pgbackrest is not None and names.pgbackrest is not None:
        entry["repo_index"] = index
        entry["pgbackrest_repository"] = {"secret": names.pgbackrest.secret, "values": names.pgbackrest.options(),
                                          "from_secrets": names.pgbackrest.secret_options()}
        entry["schedule"]["full"] = copy.pgbackrest.full.six_field()
        entry["schedule"]["diff"] = copy.pgbackrest.diff.six_field()
        entry["retention"] = {"full": copy.pgbackrest.retention_full, "diff": copy.pgbackrest.retention_diff}
    return entry


def _rto(tier: int) -> dict[str, int]:
    """A missing site-loss target is an absent key, never a null, so readers have one case to handle."""
    local, site_loss = RTO_TARGET_HOURS[tier]
    return {"local": local} if site_loss is None else {"local": local, "site_loss": site_loss}


def _verification(unit: ProtectionUnit) -> dict[str, Any]:
    dp = unit.plan
    entry: dict[str, Any] = {"check_every_days": dp.verify_every_days, "drill_every_days": dp.drill_every_days}
    if unit.drill is not None:
        entry["drilled_copy"] = unit.drill.destination
    return entry


def _dataset(inv: Inventory, unit: ProtectionUnit, guests: ProxmoxPlan | None = None) -> dict[str, Any]:
    """One dataset's entry; `guests` is the Proxmox plan when the unit is a guest group."""
    pings = inv.monitoring.healthchecks is not None
    dp, source = unit.plan, unit.source
    owner = dp.export.target_dataset if dp.export else unit.dataset
    entry: dict[str, Any] = {
        "tier": unit.tier,
        "source": unit.kind,
        "rpo_hours": dp.rpo_hours,
        "rpo_target_hours": inv.tier(unit.tier).rpo_hours,
        "rto_target_hours": _rto(unit.tier),
        "size_gb": unit.size_gb,
        "copies_total": dp.copy_count,
        "offsite_copies": dp.offsite_count,
        "media": list(dp.media),
        "copies": [_copy(unit, c, i, pings, owner) for i, c in enumerate(dp.copies, start=1)],
        "snapshots": [{"level": s.level, "keep": f"{s.lifetime_value} {s.lifetime_unit}", "schedule": s.schedule}
                      for s in dp.snapshots],
        "verification": _verification(unit),
        "alerts": list(dp.alerts),
        "restore": _restore(unit) if guests is None else guest_steps(inv, guests, unit),
    }
    if isinstance(source, PvcSource):
        entry["pvc"] = {"namespace": source.namespace, "claim": source.claim, "mover": source.mover}
    if isinstance(source, HostSource):
        entry["host"] = host_entry(unit)
        for copy in entry["copies"]:
            copy["host_service"] = entry["host"]["units"][copy["destination"]]
    if isinstance(source, PostgresSource):
        entry["postgres"] = {"namespace": source.namespace, "cluster": source.cluster,
                             "stanza_object": unit.stanza, "stanza": source.cluster}
        if dp.copies:
            entry["postgres"]["options"] = dict(PLUGIN_FIXED)
    if guests is not None:
        entry["proxmox"] = guest_entry(inv, guests, unit)
    return entry



def _tls(inv: Inventory) -> dict[str, Any]:
    """How each endpoint's certificate is checked, so a switched-off verification is never silent."""
    tls: dict[str, Any] = {"destinations": {
        d.name: {"endpoint": d.endpoint, "ca_file": getattr(d, "ca_file", None),
                 "verified": d.endpoint.startswith("https://")}
        for d in inv.destinations if d.kind != "nfs"}}
    if inv.truenas is not None:
        nas = inv.truenas
        tls["nas"] = {"host": nas.host, "verified": nas.verify_tls, "ca_file": nas.ca_file}
        if not nas.verify_tls:
            tls["nas"]["unverified_because"] = nas.verify_tls_reason
    return tls


def runbook_contract(inv: Inventory, plan: Plan) -> dict[str, Any]:
    """The stack outputs runbooks read: per dataset its tier, targets, copies and restore procedure."""
    guests = guest_units(plan.proxmox)
    tiers_used = sorted({unit.tier for unit in (*plan.units, *guests)})
    return {
        "version": CONTRACT_VERSION,
        "tiers": {str(t): {"rpo_hours": inv.tier(t).rpo_hours,
                           "rto_hours": _rto(t),
                           "lock_days": inv.tier(t).lock_days,
                           "local_retention": inv.tier(t).local_retention.levels(),
                           "offsite_retention": inv.tier(t).offsite_retention.levels(),
                           "verify_every_days": inv.tier(t).verify_every_days,
                           "drill_every_days": inv.tier(t).drill_every_days} for t in tiers_used},
        "datasets": {unit.dataset: _dataset(inv, unit) for unit in plan.units}
        | {unit.dataset: _dataset(inv, unit, plan.proxmox) for unit in guests},
        "buckets": {b.name: {"destination": b.destination, "tier": b.tier, "endpoint": b.endpoint, "region": b.region,
                             "lock_days": b.lock_days, "versioning": b.versioning,
                             "writers": [w.key for w in b.writers]} for b in plan.buckets},
        "tls": _tls(inv),
        "monthly_cost_usd": plan.monthly_cost_usd,
        "monthly_cost_total_usd": round(sum(plan.monthly_cost_usd.values()), 2),
        "escrow": {"output": SECRETS_OUTPUT,
                   "command": f"pulumi stack output --show-secrets --json {SECRETS_OUTPUT}",
                   "advice": ESCROW_ADVICE},
    }
