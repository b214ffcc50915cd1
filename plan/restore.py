"""How long a restore takes: the size over the destination's restore bandwidth, plus the tool's own overhead.

The one place for restore bandwidth defaults. A destination may declare `restore_mbps` (what a restore really
gets: for a cloud bucket that is the home connection's download, not the provider's); otherwise its kind (and, for
S3-compatible servers, whether it is offsite) decides. The tool overhead is calibrated from the restore drills the
test suite runs with the real tools (docs/restore-drills.md, "Restore times measured": the slowest of four runs,
rounded up; those restores move a few MiB, so their time is the tool's own cost): it is small next to the transfer
of any real dataset, and it does not include a person fetching the escrow or rebuilding a machine.
"""

from __future__ import annotations

LAN_MBPS = 1000.0
"""A NAS on the home network (gigabit)."""
HOME_DOWNLINK_MBPS = 100.0
"""A cloud bucket, read over a typical home connection."""
DEFAULT_RESTORE_MBPS = {
    "nfs": LAN_MBPS,
    "truenas-dataset": LAN_MBPS,
    "s3-compatible": LAN_MBPS,  # on site (MinIO, Garage on the NAS); offsite ones: see restore_mbps()
    "b2": HOME_DOWNLINK_MBPS,
    "r2": HOME_DOWNLINK_MBPS,
    "s3": HOME_DOWNLINK_MBPS,
}
TOOL_OVERHEAD_SECONDS = {
    "restic": 2.0,  # drill: 1.1, 1.3, 1.3, 0.9 s
    "kopia": 2.0,  # same mover shape as restic (no drill of its own yet)
    "kopiur": 2.0,  # kopia too, moved by the Kopiur operator (no drill of its own yet)
    "pgbackrest": 16.0,  # drill: 14.1, 15.4, 10.8, 7.2 s (restore, WAL replay, server accepts writes)
    "cloudsync": 3.0,  # drill: 2.9, 2.2, 1.2, 1.6 s (rclone crypt copy + cryptcheck)
}
DEFAULT_OVERHEAD_SECONDS = 16.0
"""Dumps and tools without a drill: the slowest measured tool."""


def restore_mbps(kind: str, offsite: bool, declared: float | None = None) -> float:
    """The bandwidth a restore from this destination gets, in Mbit/s."""
    if declared is not None:
        return float(declared)
    if kind == "s3-compatible" and offsite:
        return HOME_DOWNLINK_MBPS
    return DEFAULT_RESTORE_MBPS.get(kind, HOME_DOWNLINK_MBPS)


def restore_hours(size_gb: float, mbps: float, tool: str) -> float:
    """Hours to bring `size_gb` (decimal GB) back at `mbps`, plus the tool's overhead; 2 decimals."""
    transfer_s = size_gb * 8000.0 / mbps
    return round((transfer_s + TOOL_OVERHEAD_SECONDS.get(tool, DEFAULT_OVERHEAD_SECONDS)) / 3600.0, 2)
