"""runbook/kopiur.py: the Kopiur restore procedure recreates the claim with a dataSourceRef naming the copy's
Restore, in the claim's namespace, and never touches VolSync objects."""

from __future__ import annotations

import json
import re

from inventory.models import PvcSource
from runbook.kopiur import GROUP, restore_steps

SOURCE = PvcSource(kind="pvc", namespace="home-automation", claim="home-assistant-config",
                   storage_class="ceph-block", capacity="2Gi", mover="kopiur")


def test_steps_stop_the_app_recreate_the_claim_and_resume():
    titles = [s["title"] for s in restore_steps(SOURCE)]
    assert titles[0] == "Pause GitOps for the app" and titles[-1] == "Start the app and resume GitOps"
    assert titles.index("Stop the app") < titles.index("Recreate the claim from the Restore") < titles.index(
        "Wait for the restore")


def test_recreate_command_sets_the_data_source_ref_on_the_same_claim():
    step = next(s for s in restore_steps(SOURCE) if s["title"] == "Recreate the claim from the Restore")
    command = step["command"]
    assert command.startswith("kubectl -n home-automation get pvc home-assistant-config -o json | jq ")
    ref = re.search(r"\.spec\.dataSourceRef = (\{[^}]*\})", command)
    assert ref is not None
    assert json.loads(ref.group(1)) == {"apiGroup": GROUP, "kind": "Restore", "name": "<restore_object>"}
    assert "kubectl -n home-automation delete pvc home-assistant-config" in command
    assert ".spec.volumeName" in command  # a recreated claim must not pin the old volume


def test_no_step_mentions_volsync():
    text = json.dumps(restore_steps(SOURCE))
    assert "replicationdestination" not in text.lower() and "volsync" not in text.lower()
