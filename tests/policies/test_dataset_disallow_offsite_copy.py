"""dataset-disallow-offsite-copy: the estate passes; Tier 3 going offsite without a reason is named."""

from __future__ import annotations

from policies.rules import dataset_disallow_offsite_copy as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def _media_to_b2(estate: f.Estate) -> None:
    estate.add(kinds.CLOUD_SYNC_TASK, "media-b2", f.cloud_sync_task("hlb-b2-tier1", "5"), estate.media)


def test_compliant_estate_passes():
    assert f.run_stack(POLICY, f.Estate().nodes).messages == []


def test_tier3_dataset_going_offsite():
    estate = f.Estate()
    _media_to_b2(estate)
    outcome = f.run_stack(POLICY, estate.nodes)
    assert outcome.messages == [
        "dataset media (tier 3) sends 1 offsite copies (b2); tier 3 allows 0 without a reason: remove b2 from "
        "datasets[media].destinations, or set its offsite_override_reason."]
    assert outcome.urns == [estate.media.urn]


def test_tier3_dataset_with_a_reason_may_go_offsite():
    estate = f.Estate()
    _media_to_b2(estate)
    estate.media.props["offsite_override_reason"] = "family videos, no other source"
    assert f.run_stack(POLICY, estate.nodes).messages == []
