"""A loopback stand-in for Garage's admin API v2 (keys and bucket permissions), see server.py."""
