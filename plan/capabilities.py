"""What each storage kind implements: the one home of provider capability facts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    versioning: bool
    lifecycle: bool
    """Noncurrent-version expiry and abort-incomplete-multipart rules."""
    object_lock: bool
    checksum_env: bool
    """Needs AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION=when_required (non-AWS S3)."""


KIND_CAPABILITIES: dict[str, Capabilities] = {
    "s3": Capabilities(versioning=True, lifecycle=True, object_lock=True, checksum_env=False),
    # B2 keeps every version natively ("hidden" files) and expires them with daysFromHidingToDeleting.
    "b2": Capabilities(versioning=True, lifecycle=True, object_lock=True, checksum_env=True),
    # R2 has no versioning: lifecycle only aborts uploads; locks are age-based bucket rules.
    "r2": Capabilities(versioning=False, lifecycle=True, object_lock=True, checksum_env=True),
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


FLAVOUR_IDENTITIES: dict[str, str] = {"minio": "minio-admin"}
"""S3-compatible flavours whose tool keys the program creates, and through which API. Every other flavour (no
admin API the program drives: Garage, Ceph RGW, Wasabi, Storj, IDrive e2, moto, generic) takes a key per writer
and a read-only key per writer from the stack's credentials, created by the user on the server."""


def identities_of(kind: str, flavour: str | None = None) -> str:
    """Who creates the tool keys of a destination: `program` (its provider), an admin API name, or `supplied`."""
    if kind == "s3-compatible":
        return FLAVOUR_IDENTITIES.get(flavour or "generic", "supplied")
    return "none" if kind == "nfs" else "program"


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
