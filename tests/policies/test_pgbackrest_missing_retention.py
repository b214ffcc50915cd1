"""pgbackrest-missing-retention: repositories with a full retention pass; those keeping everything are named."""

from __future__ import annotations

from policies.rules import pgbackrest_missing_retention as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_stanza_passes():
    assert f.run_resource(POLICY, kinds.STANZA, f.stanza()).messages == []


def test_repository_without_retention():
    props = f.stanza()
    del props["spec"]["stanzaConfiguration"]["s3Repositories"][0]["retentionPolicy"]
    assert f.run_resource(POLICY, kinds.STANZA, props).messages == [
        "Stanza database/immich-db (dataset immich-db, tier 1) s3Repositories[0] (bucket 'hlb-b2-tier1') has no "
        "retentionPolicy.full, so pgBackRest keeps every backup forever; set retentionPolicy: {full: N, fullType: "
        "count} covering the tier's retention window."]


def test_zero_full_retention_counts_as_missing():
    props = f.stanza()
    props["spec"]["stanzaConfiguration"]["s3Repositories"][1]["retentionPolicy"]["full"] = 0.0
    (message,) = f.run_resource(POLICY, kinds.STANZA, props).messages
    assert "s3Repositories[1] (bucket 'hlb-r2-tier1') has no retentionPolicy.full" in message
