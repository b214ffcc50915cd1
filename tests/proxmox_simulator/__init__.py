"""A loopback stand-in of the Proxmox VE and PBS APIs (stateful; PVE requests validated by fakepve)."""

from tests.proxmox_simulator.server import ApiError, ProxmoxSimulator

__all__ = ["ApiError", "ProxmoxSimulator"]
