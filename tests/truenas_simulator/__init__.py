"""A loopback TrueNAS JSON-RPC API simulator (test double) for the TrueNAS provider tests."""

from tests.truenas_simulator.server import SECRET_VALUE, TrueNASSimulator

__all__ = ["SECRET_VALUE", "TrueNASSimulator"]
