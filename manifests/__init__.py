"""Kubernetes objects derived from the plan: pure functions returning plain dicts (no Pulumi)."""
