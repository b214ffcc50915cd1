"""pbs-sync-token-enforce-least-privilege: a token with DatastoreBackup on its datastore passes; a broader role or
no named datastore is refused with the token named."""

from __future__ import annotations

from policies.rules import pbs_sync_token_enforce_least_privilege as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def token(**changes):
    return {"user": "hlb-sync@pbs", "token_name": "push", "datastores": ["homelab"], "role": "DatastoreBackup",
            "connection": {"url": "https://pbs.offsite.example:8007"}} | changes


def test_compliant_token_passes():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_TOKEN, token()).messages == []
    assert f.run_resource(POLICY, kinds.PBS_SYNC_TOKEN, token(role="DatastoreReader")).messages == []


def test_a_broader_role_is_refused():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_TOKEN, token(role="DatastoreAdmin")).messages == [
        "PBS sync token 'hlb-sync@pbs!push' holds role 'DatastoreAdmin', which can prune or delete what it syncs; use "
        "DatastoreBackup or DatastoreReader."]


def test_no_named_datastore_is_refused():
    assert f.run_resource(POLICY, kinds.PBS_SYNC_TOKEN, token(datastores=[])).messages == [
        "PBS sync token 'hlb-sync@pbs!push' names datastores []; list the synced datastores by name (a path or an "
        "empty list would grant the role more widely)."]
    assert len(f.run_resource(POLICY, kinds.PBS_SYNC_TOKEN, token(datastores=["/"])).messages) == 1
