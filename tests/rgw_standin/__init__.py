"""A loopback stand-in for Ceph RGW: admin ops users and the S3 calls bucket policies govern (server.py)."""
