"""The homelab-backups CrossGuard rules: one module per policy, each a pure function over plain dicts.

Relative imports only: the engine imports this package as `rules` (runpy puts the pack directory on sys.path)
and the tests as `policies.rules`.
"""
