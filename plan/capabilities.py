"""What each storage kind implements: the one home of provider capability facts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    versioning: bool
    lifecycle: bool
    """Noncurrent-version expiry and abort-incomplete-multipart rules."""
    object_lock: bool
    """An object lock the backup tools survive: versions keep what a delete or overwrite replaces, and the lock
    holds those versions. Only then can a bucket hold a Tier 1 dataset's locked offsite copy."""
    checksum_env: bool
    """Needs AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION=when_required (non-AWS S3)."""


KIND_CAPABILITIES: dict[str, Capabilities] = {
    "s3": Capabilities(versioning=True, lifecycle=True, object_lock=True, checksum_env=False),
    # B2 keeps every version natively ("hidden" files) and expires them with daysFromHidingToDeleting.
    "b2": Capabilities(versioning=True, lifecycle=True, object_lock=True, checksum_env=True),
    # R2 has no versioning: lifecycle only aborts uploads. Its bucket lock rules refuse overwriting and deleting
    # young objects, which restic (lock files, prune) and pgBackRest (backup.info on every backup, expire) do in
    # normal operation: the R2 lock drill (tests/drills/test_r2_lock_drill.py) saw every pgBackRest backup and
    # every restic forget/prune fail under the rule. So no lock on R2 repository buckets.
    "r2": Capabilities(versioning=False, lifecycle=True, object_lock=False, checksum_env=True),
    "nfs": Capabilities(versioning=False, lifecycle=False, object_lock=False, checksum_env=False),
}

# S3-compatible servers differ in what they implement; unknown servers get the conservative row.
# Sources: each project's S3 compatibility page (MinIO, Garage, Storj, IDrive e2, Wasabi, Ceph RGW);
# moto is the loopback test server.
FLAVOUR_CAPABILITIES: dict[str, Capabilities] = {
    "minio": Capabilities(True, True, True, True),
    "ceph": Capabilities(True, True, True, True),
    "moto": Capabilities(True, True, True, True),
    "idrive-e2": Capabilities(True, True, True, True),
    "wasabi": Capabilities(True, False, True, True),
    "storj": Capabilities(True, False, True, True),
    "garage": Capabilities(False, True, False, True),
    "generic": Capabilities(False, False, False, True),
}


ADMIN_API_IDENTITIES: dict[str, str] = {"minio": "minio-admin", "garage": "garage-admin", "ceph-rgw": "rgw-admin",
                                        "wasabi": "wasabi-iam", "none": "supplied"}
"""S3-compatible admin APIs (the destination's `admin_api`) and who creates the tool keys through them. `none` (the
default for every flavour but minio: Storj, IDrive e2, moto, generic, or any server whose admin key the user keeps
away from the program) takes a key per writer and a read-only key per writer from the stack's credentials."""

PREFIX_SCOPED_IDENTITIES = frozenset({"minio-admin", "rgw-admin", "wasabi-iam", "program"})
"""Identity kinds limited to one prefix. Garage keys hold per-bucket read/write only (Garage has no policies), so a
Garage writer key reaches every prefix of its bucket (README, threat model)."""


def identities_of(kind: str, flavour: str | None = None, admin_api: str | None = None) -> str:
    """Who creates the tool keys of a destination: `program` (its provider), an admin API name, or `supplied`."""
    if kind == "s3-compatible":
        return ADMIN_API_IDENTITIES[admin_api or ("minio" if flavour == "minio" else "none")]
    return "none" if kind == "nfs" else "program"


LOCKED_COPY_KINDS = "b2, s3, or s3-compatible on a server with versioning and object lock"
"""Where a Tier 1 dataset's locked offsite copy can live, for messages."""


def lockable_flavours() -> list[str]:
    """S3-compatible flavours whose buckets can hold a locked copy."""
    return sorted(name for name, caps in FLAVOUR_CAPABILITIES.items() if caps.versioning and caps.object_lock)


def can_hold_locked_copy(kind: str, flavour: str | None = None) -> bool:
    """Whether a destination's buckets can be versioned and object-locked in a way the backup tools survive."""
    caps = capabilities_of(kind, flavour)
    return caps.versioning and caps.object_lock


def why_no_locked_copy(kind: str, flavour: str | None = None) -> str:
    """Why a destination cannot hold a locked copy (for messages); empty when it can."""
    if can_hold_locked_copy(kind, flavour):
        return ""
    if kind == "r2":
        return "R2 has no versioning and its bucket locks refuse the overwrites and deletes restic and pgBackRest make"
    if kind == "nfs":
        return "an NFS share has no object lock"
    missing = "object lock" if capabilities_of(kind, flavour).versioning else "versioning or object lock"
    return f"a {flavour or 'generic'} server has no {missing}"


def capabilities_of(kind: str, flavour: str | None = None) -> Capabilities:
    """Capabilities of a destination kind (and S3-compatible flavour)."""
    if kind == "s3-compatible":
        return FLAVOUR_CAPABILITIES[flavour or "generic"]
    return KIND_CAPABILITIES[kind]


# ---------------------------------------------------------------------------------------------
# What a backup tool's S3 identity may do: one bucket, one prefix. Shared by AWS IAM users and MinIO users
# (MinIO evaluates the same policy language, conditions included).

S3_OBJECT_READ_ACTIONS: tuple[str, ...] = ("s3:GetObject", "s3:GetObjectVersion")
"""Reading a repository: restic/kopia/pgBackRest fetch objects; versions for restores of older generations."""
S3_OBJECT_WRITE_ACTIONS: tuple[str, ...] = ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging",
                                            "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
"""Writing and pruning a repository. Never bucket configuration, retention, legal holds or governance bypass."""
S3_REFUSED_ACTIONS: tuple[str, ...] = (
    "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration", "s3:PutLifecycleConfiguration", "s3:PutBucketPolicy",
    "s3:PutBucketVersioning", "s3:DeleteBucket",
    "s3:DeleteObjectVersion", "admin:*")
"""What no writer, check or drill identity ever holds: each would let a stolen key shorten or defeat the lock."""


def s3_prefix_policy(bucket: str, prefix: str, *, write: bool) -> dict:
    """IAM policy for one tool instance: list and read (and with `write`, change) objects under `prefix/` only.

    The ListBucket statements are pgBackRest's sample policy (user guide, "Sample Amazon S3 Policy"): the bucket
    root only with delimiter `/` (pgBackRest and restic probe it), everything below the prefix. restic, kopia and
    rclone need the same object verbs; none of them manages buckets, versions or retention.
    """
    prefix = prefix.strip("/")
    actions = S3_OBJECT_READ_ACTIONS + (S3_OBJECT_WRITE_ACTIONS if write else ())
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"],
         "Condition": {"StringEquals": {"s3:prefix": ["", prefix], "s3:delimiter": ["/"]}}},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"],
         "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}}},
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [f"arn:aws:s3:::{bucket}"]},
        {"Effect": "Allow", "Action": list(actions), "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"]},
    ]}
