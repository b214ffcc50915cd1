"""How each tool opens one copy's repository, in the tool's own terms: decided once, read by the manifest builders
(which put it in Secrets and Stanzas) and by the runbook contract (which tells a human how to open it by hand)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from plan.model import CopyPlan

CHECKSUM_ENV = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}
"""Design §5 for non-AWS S3. VolSync forwards only allow-listed keys to movers, so these reach AWS-SDK tools only."""
PGBACKREST_CIPHER = "aes-256-cbc"


@dataclass(frozen=True)
class RepositorySettings:
    """The environment a VolSync mover opens its repository with (the repository Secret's keys)."""

    values: dict[str, str]
    """Plain settings: repository location, region, TLS and checksum switches."""
    secrets: dict[str, str]
    """Secret settings: variable -> the secret field that supplies it (`repository_password`, `access_key_id`,
    `secret_access_key`)."""


def repository_dir(copy: CopyPlan) -> str:
    """Where a filesystem repository lives inside the mover: under the NFS mount, one folder per PVC."""
    return f"/mnt/{copy.destination}/{copy.bucket}/{copy.repository}"


def volsync_repository(copy: CopyPlan) -> RepositorySettings:
    """restic or kopia (`copy.tool`) on NFS (a filesystem repository under the mount) or S3."""
    nfs = copy.kind == "nfs"
    values: dict[str, str] = {}
    secrets: dict[str, str] = {}
    if copy.tool == "restic":
        secrets["RESTIC_PASSWORD"] = "repository_password"
        if nfs:
            values["RESTIC_REPOSITORY"] = repository_dir(copy)
        else:
            values["RESTIC_REPOSITORY"] = f"s3:{copy.endpoint}/{copy.bucket}/{copy.repository}"
            values["AWS_DEFAULT_REGION"] = copy.region
    elif copy.tool == "kopia":
        secrets["KOPIA_PASSWORD"] = "repository_password"
        if nfs:
            values["KOPIA_REPOSITORY"] = f"filesystem://{repository_dir(copy)}"
        else:
            endpoint = urlsplit(copy.endpoint)
            if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
                raise ValueError(f"{copy.key}: S3 endpoint {copy.endpoint!r} needs an http(s) scheme and a host")
            values["KOPIA_REPOSITORY"] = f"s3://{copy.bucket}/{copy.repository}"
            values["KOPIA_S3_ENDPOINT"] = endpoint.netloc
            values["AWS_REGION"] = copy.region
            if endpoint.scheme == "http":
                values["KOPIA_S3_DISABLE_TLS"] = "true"
    else:
        raise ValueError(f"{copy.key}: VolSync moves restic or kopia repositories, not {copy.tool}")
    if not nfs:
        secrets["AWS_ACCESS_KEY_ID"] = "access_key_id"
        secrets["AWS_SECRET_ACCESS_KEY"] = "secret_access_key"
        if copy.checksum_env:
            values.update(CHECKSUM_ENV)
    return RepositorySettings(values, secrets)


@dataclass(frozen=True)
class PgBackRestRepository:
    """`repo<index>` of a cluster's stanza: one S3 repository per copy, WAL to every one."""

    index: int
    """Position among the cluster's repositories, from 1 (`repo<N>`, the backups' `selectedRepository`)."""
    bucket: str
    endpoint: str
    """Host only: pgBackRest takes a bare host and speaks HTTPS to S3."""
    port: int | None
    """A non-default port (pgBackRest's `repo<N>-storage-port`)."""
    region: str
    path: str
    """`/` + the copy's repository path inside the bucket."""
    retention_full: int
    retention_diff: int
    secret: str
    """The Secret holding the writer's S3 keys and the cipher passphrase."""
    uri_style: str = "path"
    """Path style works on every S3 server; virtual-host style needs wildcard DNS per bucket."""
    verify_tls: bool = True
    retention_full_type: str = "count"
    cipher_type: str = PGBACKREST_CIPHER
    ca_file: str | None = None
    """A private-CA destination: where its bundle sits in the sidecar and in the check and drill Jobs
    (`PGBACKREST_CA_DIR/<destination>.crt`, pgBackRest's `repo<N>-storage-ca-file`); None: the system trust store.
    Not among `options()`: the path exists only inside those pods, not on the laptop the runbook drill runs on."""

    def options(self) -> dict[str, str]:
        """The repository's plain options as pgbackrest.conf spells them (booleans y/n)."""
        n = f"repo{self.index}-"
        options = {
            f"{n}type": "s3",
            f"{n}s3-bucket": self.bucket,
            f"{n}s3-endpoint": self.endpoint,
            f"{n}s3-region": self.region,
            f"{n}s3-uri-style": self.uri_style,
            f"{n}storage-verify-tls": "y" if self.verify_tls else "n",
            f"{n}path": self.path,
            f"{n}retention-full": str(self.retention_full),
            f"{n}retention-full-type": self.retention_full_type,
            f"{n}retention-diff": str(self.retention_diff),
            f"{n}cipher-type": self.cipher_type,
        }
        if self.port:
            options[f"{n}storage-port"] = str(self.port)
        return dict(sorted(options.items()))

    def secret_options(self) -> dict[str, str]:
        """Options read from the Secret: option -> the secret field that supplies it."""
        n = f"repo{self.index}-"
        return {f"{n}cipher-pass": "cipher_pass", f"{n}s3-key": "access_key_id",
                f"{n}s3-key-secret": "secret_access_key"}


PGBACKREST_CA_DIR = "/projected/hlb-ca"
"""Where a private CA reaches pgBackRest: the Stanza has no CA field, but its `customEnvVar` sets
PGBACKREST_REPO<n>_STORAGE_CA_FILE, and the CNPG Cluster's `projectedVolumeTemplate` (mounted under /projected in
the postgres container) reaches the plugin's sidecar, which the dalibo plugin (v0.0.3) injects with every volume
mount of the postgres container. The check and drill Jobs mount the same ConfigMap at the same path."""


def pgbackrest_repository(copy: CopyPlan, index: int, secret: str) -> PgBackRestRepository:
    """The repository of one pgBackRest copy (`copy.pgbackrest` carries its retention)."""
    pg = copy.pgbackrest
    if pg is None:
        raise ValueError(f"{copy.key}: the plan carries no pgBackRest schedule for this copy")
    parts = urlsplit(copy.endpoint)
    return PgBackRestRepository(
        index=index, bucket=copy.bucket, endpoint=parts.hostname or "", port=parts.port, region=copy.region,
        path="/" + copy.repository, retention_full=pg.retention_full, retention_diff=pg.retention_diff,
        secret=secret, ca_file=f"{PGBACKREST_CA_DIR}/{copy.destination}.crt" if copy.private_ca else None)
