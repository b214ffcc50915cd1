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


def capabilities_of(kind: str, flavour: str | None = None) -> Capabilities:
    """Capabilities of a destination kind (and S3-compatible flavour)."""
    if kind == "s3-compatible":
        return FLAVOUR_CAPABILITIES[flavour or "generic"]
    return KIND_CAPABILITIES[kind]
