"""The restore procedure of a Kopiur-protected claim: the claim is recreated with `dataSourceRef` naming a Restore,
which Kopiur populates from the chosen copy (the way the home-ops components restore). Plain steps for a human."""

from __future__ import annotations

from inventory.models import PvcSource
from runbook.steps import step

GROUP = "kopiur.home-operations.com"
"""Kopiur's API group (the `apiGroup` of the claim's `dataSourceRef`)."""


def restore_steps(source: PvcSource) -> list[dict[str, str]]:
    """Pause GitOps, stop the app, recreate the claim populated by the copy's Restore, wait, resume."""
    ns, claim = source.namespace, source.claim
    recreate = (
        f"kubectl -n {ns} get pvc {claim} -o json | jq 'del(.metadata.uid, .metadata.resourceVersion, "
        ".metadata.creationTimestamp, .metadata.annotations, .metadata.finalizers, .spec.volumeName, .status) | "
        f".spec.dataSourceRef = {{\"apiGroup\": \"{GROUP}\", \"kind\": \"Restore\", \"name\": \"<restore_object>\"}}' "
        f"> /tmp/{claim}.json && kubectl -n {ns} delete pvc {claim} && kubectl -n {ns} create -f /tmp/{claim}.json")
    return [
        step("Pause GitOps for the app",
              "Flux re-applies the app from git every few minutes and would start it again in the middle of the "
              "restore. <app> is the Flux Kustomization that deploys the workloads using this claim.",
              "flux suspend kustomization <app>"),
        step("Stop the app",
              f"The claim {claim} is replaced by a freshly populated one; nothing may hold it mounted. This scales "
              "every Deployment and StatefulSet in the namespace to zero; narrow it to the app if the namespace "
              "holds others.",
              f"kubectl -n {ns} scale deploy,sts --all --replicas=0"),
        step("Choose the copy to restore from",
              "Each copy has a Restore object (restore_object) in populator mode: it does nothing until a claim "
              "names it. The NAS copy is the fastest; a replica (replica_of set) reads the offsite copy of the NAS "
              "repository through its read-only Repository and survives losing the NAS."),
        step("Optionally pick an older point in time",
              "By default the newest snapshot is restored. Set spec.source.fromPolicy.asOf to an RFC 3339 time "
              "(the newest snapshot at or before it), or spec.source.fromPolicy.offset to N to skip the N newest.",
              f"kubectl -n {ns} patch restores.{GROUP} <restore_object> --type merge -p "
              "'{\"spec\":{\"source\":{\"fromPolicy\":{\"asOf\":\"2026-01-31T00:00:00Z\"}}}}'"),
        step("Recreate the claim from the Restore",
              f"Kopiur fills a new volume for claim {claim} from the snapshot before it binds. Deleting the claim "
              "releases the current volume (deleted with it under a Delete reclaim policy): snapshot it first if "
              "its data may still matter. Needs jq.",
              recreate),
        step("Wait for the restore",
              "The restore is done when the Restore reports Succeeded and the claim is Bound.",
              f"kubectl -n {ns} wait restores.{GROUP}/<restore_object> --for=jsonpath='{{.status.phase}}'=Succeeded "
              f"--timeout=2h && kubectl -n {ns} get pvc {claim}"),
        step("Start the app and resume GitOps",
              "Flux scales the app back to the replica counts in git. Keep the claim's dataSourceRef in git (as the "
              "home-ops components do) so a rebuilt cluster restores it the same way; check the app's own health "
              "before telling anyone it is back.",
              "flux resume kustomization <app>"),
    ]
