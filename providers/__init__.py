"""Pulumi dynamic providers for services without an installable provider here (B2, S3-compatible, TrueNAS)."""
