"""The inventory: what the estate holds, how much it matters, and where copies may go.

Strict pydantic models: unknown keys are refused, closed sets are literals, numbers carry bounds,
and every cross-field rule says what to write instead. Tier defaults live in `inventory.tiers`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inventory.dbs import engine_problems
from inventory.hosts import HostSource, cross_host_problems
from inventory.nas_config import nas_config_problems
from inventory.tiers import DEFAULT_TIERS, TIER_BOUNDS, Retention, TierSettings

NAME = r"^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$"
"""Dataset and destination names become bucket, Secret and URN parts: DNS-label-like, short."""
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
B2_REGION = r"^[a-z]{2}-[a-z]+-\d{3}$"
QUANTITY = r"^[1-9][0-9]*(Mi|Gi|Ti)$"
URL = r"^https?://[^/\s]+(/[^\s]*)?$"

Name = Annotated[str, Field(pattern=NAME)]


class Strict(BaseModel):
    """Base for every inventory section: no unknown keys, no silent coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---------------------------------------------------------------------------------------------
# Destinations


class _Destination(Strict):
    name: Name
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 6.0
    """Storage price used by the cost estimate."""
    bucket_prefix: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")] | None = None
    """Buckets are named `<bucket_prefix>-tier<N>`; defaults to `hlb-<name>`."""
    restore_mbps: Annotated[float, Field(gt=0, le=100_000)] | None = None
    """Bandwidth a restore from here gets, Mbit/s; default per kind in plan/restore.py."""

    @property
    def media(self) -> str:
        """The storage medium class, for the 3-2-1 "two media" rule."""
        return "object-storage"

    def bucket_for(self, tier: int) -> str:
        """The bucket (or NFS folder) that holds this destination's copies for one tier."""
        return f"{self.bucket_prefix or 'hlb-' + self.name}-tier{tier}"


class NfsDestination(_Destination):
    """A TrueNAS NFS export: the local copy, on the NAS's disks."""

    kind: Literal["nfs"]
    server: Annotated[str, Field(min_length=1)]
    path: Annotated[str, Field(pattern=r"^/.+")]
    offsite: bool = False
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 0.0

    @property
    def media(self) -> str:
        return "nas-disk"


class B2Destination(_Destination):
    """Backblaze B2, through its native API for buckets and keys and its S3 API for movers."""

    kind: Literal["b2"]
    region: Annotated[str, Field(pattern=B2_REGION)]
    """As shown in the bucket details, e.g. `us-west-004`."""
    offsite: bool = True

    @property
    def endpoint(self) -> str:
        return f"https://s3.{self.region}.backblazeb2.com"


class R2Destination(_Destination):
    """Cloudflare R2 (no egress fees; no object versioning)."""

    kind: Literal["r2"]
    account_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    jurisdiction: Literal["default", "eu", "fedramp"] = "default"
    offsite: bool = True
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 15.0

    @property
    def endpoint(self) -> str:
        infix = "" if self.jurisdiction == "default" else f".{self.jurisdiction}"
        return f"https://{self.account_id}{infix}.r2.cloudflarestorage.com"

    @property
    def region(self) -> str:
        return "auto"


class S3Destination(_Destination):
    """Amazon S3."""

    kind: Literal["s3"]
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
    offsite: bool = True
    price_usd_per_tb_month: Annotated[float, Field(ge=0, le=1000)] = 23.0

    @property
    def endpoint(self) -> str:
        return f"https://s3.{self.region}.amazonaws.com"


Flavour = Literal["minio", "garage", "storj", "idrive-e2", "wasabi", "ceph", "moto", "generic"]
AdminApi = Literal["minio", "garage", "ceph-rgw", "wasabi", "none"]
ADMIN_API_FLAVOUR = {"minio": "minio", "garage": "garage", "ceph-rgw": "ceph", "wasabi": "wasabi"}
"""The server flavour each admin API belongs to (issue #13: per-writer keys created by the program)."""
WASABI_IAM = "https://iam.wasabisys.com"


class S3CompatibleDestination(_Destination):
    """Any other S3 server: MinIO, Garage, Storj gateway, IDrive e2, Wasabi, self-hosted."""

    kind: Literal["s3-compatible"]
    endpoint: Annotated[str, Field(pattern=r"^https?://[^/\s]+$")]
    """Scheme and host[:port], no path, e.g. `https://gateway.storjshare.io`."""
    region: Annotated[str, Field(min_length=1, max_length=40)] = "us-east-1"
    flavour: Flavour = "generic"
    """Selects the capability table (which bucket features the server implements)."""
    offsite: bool = True
    ca_file: Annotated[str, Field(min_length=1)] | None = None
    """PEM bundle of a private CA the endpoint's certificate chains to (path on the machine running Pulumi)."""
    admin_api: AdminApi | None = None
    """Which admin API the program creates each writer's keys through (`minio`, `garage`, `ceph-rgw`, `wasabi`), or
    `none`: the user creates them and supplies them in the stack's credentials. Default: `minio` for flavour minio,
    `none` otherwise."""
    admin_endpoint: Annotated[str, Field(pattern=r"^https?://[^/\s]+$")] | None = None
    """Where that API answers when not at `endpoint`: Garage's admin port (required, e.g. `https://nas:3903`); Wasabi
    IAM (default https://iam.wasabisys.com). Ceph RGW's admin ops and MinIO's admin API share the S3 endpoint."""

    @property
    def identity_api(self) -> str:
        """The admin API in effect (the default resolved)."""
        return self.admin_api or ("minio" if self.flavour == "minio" else "none")

    @property
    def identity_endpoint(self) -> str:
        """Where the program calls the admin API."""
        if self.admin_endpoint:
            return self.admin_endpoint
        return WASABI_IAM if self.identity_api == "wasabi" else self.endpoint

    @model_validator(mode="after")
    def _admin_api_fits(self) -> S3CompatibleDestination:
        api = self.identity_api
        wanted = ADMIN_API_FLAVOUR.get(api)
        if wanted and self.flavour != wanted:
            raise ValueError(f"admin_api {api!r} is the {wanted} server's API, but flavour is {self.flavour!r}: set "
                             f"flavour: {wanted}, or admin_api: none to supply each writer's keys yourself")
        if api == "garage" and not self.admin_endpoint:
            raise ValueError("admin_api 'garage' needs admin_endpoint, the Garage admin API's address (port 3903 by "
                             "default, e.g. https://nas.internal:3903)")
        if self.admin_endpoint and api not in ("garage", "wasabi", "ceph-rgw"):
            raise ValueError(f"admin_endpoint only applies to admin_api garage, ceph-rgw or wasabi (here {api!r}); "
                             "remove it")
        host = self.identity_endpoint.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
        if (api != "none" and self.identity_endpoint.startswith("http://")
                and host not in ("127.0.0.1", "localhost", "::1") and self.offsite):
            raise ValueError(f"admin_endpoint {self.identity_endpoint!r} is plain http and the admin credential "
                             "travels in every request: write https://...")
        return self

    @model_validator(mode="after")
    def _offsite_over_https(self) -> S3CompatibleDestination:
        host = self.endpoint.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
        # A loopback server never leaves the machine (the demo's stand-in); anything else offsite crosses networks
        # someone else runs, with the keys and the data in every request.
        if self.offsite and self.endpoint.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"endpoint {self.endpoint!r} is plain http, and offsite destinations must use https "
                             "(the S3 keys and the backups travel in every request): write https://..., and for a "
                             "private CA set ca_file to its PEM bundle")
        if self.ca_file and not self.endpoint.startswith("https://"):
            raise ValueError("ca_file only applies to an https:// endpoint; remove it or switch the endpoint to https")
        return self


Destination = Annotated[
    NfsDestination | B2Destination | R2Destination | S3Destination | S3CompatibleDestination,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------------------------
# Sources

Quantity = Annotated[str, Field(pattern=QUANTITY)]
K8sName = Annotated[str, Field(pattern=K8S_NAME, max_length=63)]


Mover = Literal["restic", "kopia", "kopiur"]
"""The engine protecting a PVC: VolSync's restic mover, the VolSync kopia fork, or the Kopiur operator."""


class PvcSource(Strict):
    """A Kubernetes PVC, protected by VolSync (one ReplicationSource per destination)."""

    kind: Literal["pvc"]
    namespace: K8sName
    claim: K8sName
    storage_class: K8sName
    capacity: Quantity
    mover: Mover = "restic"
    """`restic` or `kopia` (VolSync movers) or `kopiur` (the Kopiur operator); unset: `kubernetes.default_mover`."""
    offsite_by: Literal["snapshot", "replication"] = "snapshot"
    """How offsite copies are made: `snapshot` (the app's volume is snapshotted into each destination's own
    repository) or `replication` (kopiur only: the NAS repository is replicated to each offsite destination)."""
    copy_method: Literal["Snapshot", "Clone", "Direct"] = "Snapshot"
    volume_snapshot_class: K8sName | None = None
    run_as_user: Annotated[int, Field(ge=0)] = 1000
    run_as_group: Annotated[int, Field(ge=0)] = 1000
    cache_capacity: Quantity = "1Gi"

    @field_validator("storage_class")
    @classmethod
    def _not_cephfs(cls, value: str) -> str:
        if value == "ceph-filesystem":
            raise ValueError(
                "VolSync restores on ceph-filesystem can silently zero sparse files; "
                "move the claim to a block storage class (e.g. ceph-block) before protecting it"
            )
        return value


class PostgresSource(Strict):
    """A CloudNativePG cluster, protected by pgBackRest through the dalibo CNPG-I plugin."""

    kind: Literal["postgres"]
    namespace: K8sName
    cluster: K8sName


class TruenasSource(Strict):
    """A ZFS dataset on the NAS: periodic snapshots locally, cloud sync tasks offsite."""

    kind: Literal["truenas"]
    dataset: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_. -]+)*$")]
    """ZFS dataset path, e.g. `storage0/images` (no leading `/mnt`)."""
    recursive: bool = False
    exclude: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _exclude_needs_recursive(self) -> TruenasSource:
        if self.exclude and not self.recursive:
            raise ValueError("exclude only applies to recursive snapshots; set recursive: true or drop exclude")
        for child in self.exclude:
            if not child.startswith(self.dataset + "/"):
                raise ValueError(
                    f"exclude entry {child!r} is not a child of {self.dataset!r}; write the full child path")
        return self


class ExportSource(Strict):
    """An app-consistent dump CronJob writing into a NAS dataset that a `truenas` dataset protects."""

    kind: Literal["export"]
    engine: Literal["pg_dump", "sqlite", "mysqldump", "mariadb-dump", "mongodump", "redis"]
    namespace: K8sName
    target: Name
    """Name of the `truenas` dataset in this inventory that receives the dumps."""
    database_host: str | None = None
    database_name: str | None = None
    credentials_secret: K8sName | None = None
    """pg_dump: Secret with PGUSER/PGPASSWORD keys."""
    sqlite_claim: K8sName | None = None
    sqlite_path: str | None = None
    keep: Annotated[int, Field(ge=1, le=365)] = 14
    database_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """mysqldump, mariadb-dump, redis: the server's port (default 3306, 6379)."""
    oplog: bool = False
    """mongodump: the server is a replica set member; dump the whole instance with `--oplog` (point in time)."""
    rdb_claim: K8sName | None = None
    """redis: the server's data PVC, where BGSAVE writes its RDB file."""
    rdb_path: str | None = None
    """redis: the RDB file inside that claim (default `dump.rdb`)."""

    @model_validator(mode="after")
    def _engine_fields(self) -> ExportSource:
        if self.engine == "pg_dump" and not (self.database_host and self.database_name and self.credentials_secret):
            raise ValueError("pg_dump exports need database_host, database_name and credentials_secret")
        if self.engine == "sqlite" and not (self.sqlite_claim and self.sqlite_path):
            raise ValueError("sqlite exports need sqlite_claim (the app's PVC) and sqlite_path (file inside it)")
        return self


class NasConfigSource(Strict):
    """The NAS's own configuration database with its secret seed, exported on a schedule by a NAS cron job into a
    `truenas` dataset that copies it offsite (inventory/nas_config.py has its rules)."""

    kind: Literal["nas-config"]
    target: Name
    """Name of the `truenas` dataset in this inventory that receives the exports (tier 1, copied offsite)."""
    keep: Annotated[int, Field(ge=1, le=365)] = 30


Source = Annotated[
    PvcSource | PostgresSource | TruenasSource | ExportSource | HostSource | NasConfigSource,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------------------------
# Datasets, tiers and the rest


class Dataset(Strict):
    """One thing worth protecting, with its tier and where its copies go."""

    name: Name
    tier: Literal[1, 2, 3]
    size_gb: Annotated[float, Field(gt=0, le=1_000_000)]
    """Current size; drives the cost estimate."""
    daily_change: Annotated[float, Field(ge=0, le=1)] = 0.01
    """Fraction of the data that changes per day (cost estimate of retained increments)."""
    source: Source
    destinations: tuple[Name, ...] | None = None
    """Where copies go. Default: every local destination, plus every offsite one for Tier 1."""
    rpo_hours: Annotated[int, Field(ge=1, le=24 * 31)] | None = None
    """Tighter RPO than the tier's (never looser)."""
    offsite_override_reason: Annotated[str, Field(min_length=10)] | None = None
    """Tier 3 only: why this re-downloadable data still goes offsite."""


class Window(Strict):
    """A daily time window (local time of the NAS/cluster); may wrap past midnight."""

    start: Annotated[str, Field(pattern=HHMM)] = "00:30"
    end: Annotated[str, Field(pattern=HHMM)] = "05:00"

    def minutes(self) -> tuple[int, int]:
        start = _to_minutes(self.start)
        end = _to_minutes(self.end)
        return start, end if end > start else end + 24 * 60


def _to_minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class Schedule(Strict):
    """When jobs may start: daily jobs inside the maintenance window, sub-daily ones spread out."""

    maintenance_window: Window = Window()
    timezone: str = "UTC"
    """IANA zone the maintenance window is local time in, e.g. `Europe/Berlin`."""


class Healthchecks(Strict):
    """Healthchecks pings: slug URLs under a project ping key (hosted or self-hosted)."""

    ping_base: Annotated[str, Field(pattern=r"^https?://[^\s]+/$")] = "https://hc-ping.com/"


class Monitoring(Strict):
    prometheus_rules: bool = True
    namespace: K8sName = "monitoring"
    """Where the PrometheusRule objects go (the namespace your Prometheus watches)."""
    healthchecks: Healthchecks | None = None


class Kubernetes(Strict):
    mode: Literal["apply", "render"] = "render"
    """`render` writes manifests for a Flux repository; `apply` talks to the cluster."""
    render_dir: str = "rendered"
    secret_delivery: Literal["secret", "external-secret"] = "external-secret"
    external_secret_store: K8sName = "onepassword"
    volume_snapshot_class: K8sName | None = None
    default_mover: Mover = "restic"
    """The mover of every pvc dataset that names none (`datasets[N].source.mover` overrides it)."""
    snapshot_classes: tuple[K8sName, ...] = ()
    """Storage classes whose CSI driver takes snapshots and clones, even if their name says otherwise."""
    snapshotless_classes: tuple[K8sName, ...] = ()
    """Further storage classes that cannot snapshot (local-path, hostpath and NFS subdir classes are known)."""


class _SecretStore(Strict):
    on_delete: Literal["keep", "remove"] = "keep"
    """What happens to a store item whose Secret the program stops declaring (a dataset or copy removed): `keep`
    leaves it (the password still opens the repository's old snapshots), `remove` deletes it."""


class KubernetesSecretStore(_SecretStore):
    """Values as Kubernetes Secrets in one namespace, read by the External Secrets `kubernetes` provider."""

    kind: Literal["kubernetes"]
    namespace: K8sName
    """The ClusterSecretStore's `remoteNamespace`: Secrets `homelab-backups.<secret name>` land here."""
    context: Annotated[str, Field(min_length=1)] | None = None
    """kubeconfig context of the cluster holding the store; default: the current context (KUBECONFIG)."""


class OnePasswordSecretStore(_SecretStore):
    """A 1Password vault through a Connect server, read by the External Secrets `onepassword` provider."""

    kind: Literal["onepassword"]
    connect_host: Annotated[str, Field(pattern=URL)]
    """The Connect server's URL, e.g. `https://connect.internal:8443` (the token: `credentials.onepassword.token`)."""
    vault: Annotated[str, Field(min_length=1, max_length=200)]
    """Vault name or id; the ClusterSecretStore must list it in `vaults`."""
    ca_file: Annotated[str, Field(min_length=1)] | None = None
    """PEM bundle of a private CA the Connect server's certificate chains to."""

    @model_validator(mode="after")
    def _token_over_https(self) -> OnePasswordSecretStore:
        host = self.connect_host.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
        if self.connect_host.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"connect_host {self.connect_host!r} is plain http, and every request carries the "
                             "Connect token and the escrowed values: write https://... (or run the program on the "
                             "Connect host and use http://127.0.0.1:<port>)")
        return self


SecretStore = Annotated[KubernetesSecretStore | OnePasswordSecretStore, Field(discriminator="kind")]


class Truenas(Strict):
    """The NAS that runs snapshot and cloud sync tasks and receives export dumps."""

    host: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$")]
    """Hostname (or host:port) of the TrueNAS API, e.g. `citadel.internal`."""
    api_version: Annotated[str, Field(pattern=r"^(current|v\d+\.\d+(\.\d+)?)$")] = "current"
    """`current`, or a pinned version such as `v25.04.0` (JSON-RPC endpoint `/api/<version>`)."""
    verify_tls: bool = True
    verify_tls_reason: Annotated[str, Field(min_length=10)] | None = None
    """Required with `verify_tls: false`: why the NAS's certificate cannot be verified (shown in the runbook)."""
    ca_file: str | None = None
    """PEM bundle for a NAS with a private CA."""
    nfs_host: str | None = None
    """Hostname pods use to mount NAS exports, when it differs from `host`."""
    timezone: str | None = None
    """The NAS's own zone (System > General > Localization), which its tasks' times are read in; defaults to
    schedule.timezone."""

    @model_validator(mode="after")
    def _tls_off_only_with_a_reason(self) -> Truenas:
        if not self.verify_tls and not self.verify_tls_reason:
            raise ValueError("verify_tls: false would send the NAS API key (full admin) to whoever answers on the "
                             "network: set ca_file to the NAS's CA bundle instead, or, if you must, set "
                             "verify_tls_reason to say why (it is shown in the runbook)")
        if self.verify_tls and self.verify_tls_reason:
            raise ValueError("verify_tls_reason only applies with verify_tls: false; remove it")
        return self


# The proxmox section builds on the bases above (Strict, Name, URL); imported here so the module cycle resolves.
from inventory.proxmox import Proxmox, proxmox_problems  # noqa: E402
from inventory.proxmox_drill import drill_problems  # noqa: E402


class Inventory(Strict):
    """The whole estate. Stack config keys map one-to-one to these fields."""

    destinations: Annotated[tuple[Destination, ...], Field(min_length=1)]
    datasets: Annotated[tuple[Dataset, ...], Field(min_length=1)]
    tiers: dict[Literal["1", "2", "3"], TierSettings] = Field(default_factory=dict)
    schedule: Schedule = Schedule()
    monitoring: Monitoring = Monitoring()
    kubernetes: Kubernetes = Kubernetes()
    truenas: Truenas | None = None
    proxmox: Proxmox | None = None
    """A Proxmox VE cluster whose guests are protected by tier (inventory/proxmox.py)."""
    secret_store: SecretStore | None = None
    """Where the program writes every value the rendered ExternalSecrets read (escrow); None: copied by hand."""
    budget_usd_per_month: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _default_mover(self) -> Inventory:
        """Pvc sources that name no `mover` take the stack-wide `kubernetes.default_mover`."""
        default = self.kubernetes.default_mover
        filled = tuple(
            ds.model_copy(update={"source": ds.source.model_copy(update={"mover": default})})
            if isinstance(ds.source, PvcSource) and "mover" not in ds.source.model_fields_set
            and ds.source.mover != default else ds
            for ds in self.datasets)
        if filled != self.datasets:
            object.__setattr__(self, "datasets", filled)  # frozen model: filled once, while it is being validated
        return self

    def tier(self, number: int) -> TierSettings:
        """The effective settings of a tier: its override if given, else the default."""
        return self.tiers.get(str(number), DEFAULT_TIERS[number])  # type: ignore[call-overload]

    def destination(self, name: str) -> Destination:
        return next(d for d in self.destinations if d.name == name)

    def destinations_of(self, dataset: Dataset) -> tuple[Destination, ...]:
        """Resolved destinations of a dataset (explicit list, or the tier default)."""
        if dataset.destinations is not None:
            return tuple(self.destination(n) for n in dataset.destinations)
        if isinstance(dataset.source, ExportSource | NasConfigSource):
            return ()
        local_only = [d for d in self.destinations if not d.offsite]
        offsite = [d for d in self.destinations if d.offsite]
        if isinstance(dataset.source, PostgresSource):
            # pgBackRest writes to object storage only: local object stores (MinIO on the NAS) are its local copy.
            local_objects = [d for d in local_only if d.kind != "nfs"]
            if dataset.tier == 1:
                return tuple(local_objects + offsite)
            return tuple(local_objects)
        if isinstance(dataset.source, TruenasSource):
            # The NAS's own snapshots are the local protection; copies leave the box by cloud sync.
            return tuple(offsite) if dataset.tier == 1 else tuple(offsite[:1]) if dataset.tier == 2 else ()
        # VolSync's local copy is the NAS export; local object stores serve databases.
        local = [d for d in local_only if d.kind == "nfs"] or local_only
        chosen = local + offsite if dataset.tier == 1 else local
        return tuple(chosen)


Location = tuple[str | int, ...]


def rule_problems(inv: Inventory) -> list[tuple[Location, str]]:
    """Cross-field rules (references, 3-2-1, tier bounds), every problem with its own location."""
    problems: list[tuple[Location, str]] = []
    problems += _duplicates("destinations", [d.name for d in inv.destinations])
    problems += _duplicates("datasets", [d.name for d in inv.datasets])
    for number, settings in inv.tiers.items():
        problems += [(("tiers", number, *loc), msg) for loc, msg in TIER_BOUNDS[int(number)].check(settings)]
    if inv.kubernetes.mode == "render" and inv.kubernetes.secret_delivery == "secret":
        problems.append((("kubernetes", "secret_delivery"),
                         "render mode writes manifests for git, where a Secret would sit in plain text; use "
                         "external-secret (values are exported as Pulumi secrets for escrow)"))
    if inv.secret_store is not None and inv.kubernetes.secret_delivery != "external-secret":
        problems.append((("secret_store",), "the store is written for the ExternalSecrets to read, and "
                         "kubernetes.secret_delivery is `secret`: set it to external-secret or remove secret_store"))
    unwatched = [d.name for d in inv.datasets if d.source.kind == "truenas" and inv.tier(d.tier).alerts]
    if unwatched and inv.monitoring.healthchecks is None:
        problems.append((("monitoring", "healthchecks"), f"datasets {unwatched} need alerting and NAS tasks report "
                         "only through Healthchecks; set monitoring.healthchecks.ping_base"))
    nas_users = [d.name for d in inv.datasets if d.source.kind in ("truenas", "export", "nas-config")]
    if nas_users and inv.truenas is None:
        problems.append((("truenas",), f"datasets {nas_users} live on or write to the NAS; add a truenas section "
                         "with at least `host: <nas hostname>`"))
    problems += cross_host_problems(inv)
    by_name = {d.name: d for d in inv.datasets}
    for i, ds in enumerate(inv.datasets):
        problems += [((("datasets", i, *loc)), msg) for loc, msg in _dataset_problems(inv, ds, by_name)]
    problems += proxmox_problems(inv)
    problems += drill_problems(inv)
    return problems


def _duplicates(section: str, names: list[str]) -> list[tuple[Location, str]]:
    seen: dict[str, int] = {}
    problems: list[tuple[Location, str]] = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(((section, i, "name"),
                             f"duplicate name {name!r} (first used at {section}[{seen[name]}]); names must be unique"))
        seen.setdefault(name, i)
    return problems


def _dataset_problems(inv: Inventory, ds: Dataset, by_name: dict[str, Dataset]) -> list[tuple[Location, str]]:
    """Problems of one dataset, located relative to it."""
    known = sorted(d.name for d in inv.destinations)
    unknown = [((("destinations", j)), f"unknown destination {name!r}; declare it under destinations or use one of "
                f"{known}") for j, name in enumerate(ds.destinations or ()) if name not in known]
    if unknown:
        return unknown
    if isinstance(ds.source, ExportSource):
        return _export_problems(inv, ds, ds.source, by_name)
    if isinstance(ds.source, NasConfigSource):
        return nas_config_problems(inv, ds, by_name)
    return _copy_problems(inv, ds) + _tier_problems(inv, ds) + _replication_problems(inv, ds)


def _export_problems(
    inv: Inventory, ds: Dataset, source: ExportSource, by_name: dict[str, Dataset]
) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    target = by_name.get(source.target)
    if target is None or not isinstance(target.source, TruenasSource):
        problems.append((("source", "target"), f"{source.target!r} is not a truenas dataset of this inventory; name "
                         "the dataset that protects the NAS backup path"))
    elif target.tier > ds.tier:
        problems.append((("source", "target"), f"exports of a tier {ds.tier} dataset land in {target.name!r}, which "
                         f"is only tier {target.tier}; raise that dataset to tier {ds.tier}"))
    elif ds.tier == 3 and not ds.offsite_override_reason and any(d.offsite for d in inv.destinations_of(target)):
        problems.append((("source", "target"), f"tier 3 data stays local, but {target.name!r} copies offsite; "
                         "target a local-only dataset or set offsite_override_reason"))
    if ds.destinations:
        problems.append((("destinations",), "an export's copies are those of its target dataset; remove destinations"))
    problems += [(("source", field), message) for field, message in engine_problems(source)]
    return problems


def _copy_problems(inv: Inventory, ds: Dataset) -> list[tuple[Location, str]]:
    """Where the copies go: reachable by the tool, at least one, and 3-2-1 for tier 1."""
    source = ds.source
    dests = inv.destinations_of(ds)
    problems: list[tuple[Location, str]] = []
    if not isinstance(source, PvcSource | HostSource):
        problems += [(("destinations", j), f"{source.kind} datasets cannot use the nfs destination {d.name!r} "
                      "(pgBackRest and cloud sync write to object storage); drop it")
                     for j, d in enumerate(dests) if d.kind == "nfs"]
    if isinstance(source, PostgresSource):
        problems += [(("destinations", j), f"pgBackRest reaches S3 over HTTPS only and {d.name!r} is {d.endpoint}; "
                      "give that destination an https:// endpoint or keep this database off it")
                     for j, d in enumerate(dests) if getattr(d, "endpoint", "").startswith("http://")]
    if not dests and isinstance(source, TruenasSource) and ds.tier == 2:
        return [(("destinations",), "tier 2 needs a copy off the NAS's own disks (snapshots share its pool); add an "
                 "offsite destination")]
    if not dests and not isinstance(source, TruenasSource):
        declared = sorted(d.name for d in inv.destinations)
        return [(("destinations",), f"no copy of this {source.kind} dataset would be made; list at least one "
                 f"destination it can use (declared: {declared})")]
    offsite = [d.name for d in dests if d.offsite]
    if ds.tier == 2 and not isinstance(source, TruenasSource) and all(d.offsite for d in dests):
        problems.append((("destinations",), "tier 2 needs a local copy; add a local destination (an NFS share, or "
                         "for databases an object store on the LAN such as MinIO on the NAS)"))
    if ds.tier == 1 and not offsite:
        available = [d.name for d in inv.destinations if d.offsite]
        fix = (f"add one of {available} to its destinations" if available
               else "declare an offsite destination (b2, r2, s3 or s3-compatible)")
        problems.append((("destinations",), f"tier 1 needs at least one offsite copy; {fix}"))
    if ds.tier == 1 and offsite and not problems and TIER_BOUNDS[ds.tier].require_lock:
        problems += _locked_copy_problems(inv, ds, dests)
    if ds.tier == 1 and not problems:
        media = sorted({_primary_media(source)} | {d.media for d in dests})
        if len(dests) + 1 < 3 or len(media) < 2:
            problems.append((("destinations",), f"tier 1 needs 3 copies (primary included) on 2 media; it has "
                             f"{len(dests) + 1} on {media}: add a destination"))
    if ds.tier == 3 and offsite and not ds.offsite_override_reason:
        problems.append((("destinations",), f"tier 3 data is re-downloadable and stays local; remove {offsite} or "
                         "set offsite_override_reason"))
    return problems


def _locked_copy_problems(inv: Inventory, ds: Dataset, dests: tuple[Destination, ...]) -> list[tuple[Location, str]]:
    """A tier whose offsite copies must be locked needs one on a destination where a lock works (one rule, shared
    with the plan, the components and the pack's dataset-enforce-offsite-copy)."""
    from plan.capabilities import LOCKED_COPY_KINDS, can_hold_locked_copy, lockable_flavours, why_no_locked_copy

    def lockable(d: Destination) -> bool:
        return d.offsite and can_hold_locked_copy(d.kind, getattr(d, "flavour", None))

    if any(lockable(d) for d in dests):
        return []
    unlocked = "; ".join(f"{d.name!r}: {why_no_locked_copy(d.kind, getattr(d, 'flavour', None))}"
                         for d in dests if d.offsite)
    available = [d.name for d in inv.destinations if lockable(d)]
    fix = (f"add one of {available} to its destinations" if available
           else f"declare an offsite destination of kind {LOCKED_COPY_KINDS} (flavour "
                f"{', '.join(f for f in lockable_flavours() if f != 'moto')}) and add it to its destinations")
    return [(("destinations",), f"dataset {ds.name!r} is tier 1, whose offsite copies must be locked against early "
             f"deletion, but none of its offsite destinations can hold a locked copy ({unlocked}); {fix}")]


def _tier_problems(inv: Inventory, ds: Dataset) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    if ds.offsite_override_reason and ds.tier != 3:
        problems.append((("offsite_override_reason",), "only tier 3 datasets need an offsite override; remove it"))
    rpo = inv.tier(ds.tier).rpo_hours
    if ds.rpo_hours is not None and ds.rpo_hours > rpo:
        problems.append((("rpo_hours",), f"{ds.rpo_hours} h is looser than the tier {ds.tier} RPO of {rpo} h; use "
                         f"{rpo} or less"))
    return problems


def _replication_problems(inv: Inventory, ds: Dataset) -> list[tuple[Location, str]]:
    """Offsite copies by replication need a kopia repository on the NAS to replicate, written by Kopiur."""
    source = ds.source
    if not isinstance(source, PvcSource) or source.offsite_by != "replication":
        return []
    if source.mover != "kopiur":
        return [(("source", "offsite_by"), f"replication copies the NAS kopia repository that Kopiur writes, and "
                 f"this dataset's mover is {source.mover!r}: set mover: kopiur, or offsite_by: snapshot")]
    dests = inv.destinations_of(ds)
    problems: list[tuple[Location, str]] = []
    if not any(d.kind == "nfs" for d in dests):
        problems.append((("destinations",), "offsite_by: replication replicates the repository on the NAS, and no "
                         "nfs destination is among this dataset's destinations: add one (e.g. the NAS export), or "
                         "set offsite_by: snapshot"))
    if not any(d.offsite for d in dests):
        problems.append((("source", "offsite_by"), "offsite_by: replication has no offsite destination to replicate "
                         "to; add one to destinations, or remove offsite_by"))
    return problems


def _primary_media(source: object) -> str:
    if isinstance(source, HostSource):
        return "host-disk"
    return "nas-disk" if isinstance(source, TruenasSource) else "cluster-disk"


__all__ = [
    "Dataset",
    "Destination",
    "Inventory",
    "rule_problems",
    "NfsDestination",
    "B2Destination",
    "R2Destination",
    "S3Destination",
    "S3CompatibleDestination",
    "PvcSource",
    "PostgresSource",
    "TruenasSource",
    "ExportSource",
    "HostSource",
    "NasConfigSource",
    "KubernetesSecretStore",
    "OnePasswordSecretStore",
    "Retention",
    "TierSettings",
]
