"""Where stacks written before the TrueNAS providers were split into one module per service find them.

A dynamic provider is pickled into each resource's state by reference (module and class name). State written
before the split names `providers.truenas.resources.SnapshotTaskProvider` and its siblings, and the engine
deserializes that stored provider for `pulumi refresh`, `destroy` and deleting a resource removed from the
program. The next `pulumi up` stores the new module path; until then these names must resolve. Import from the
service modules, never from here.
"""

from providers.truenas.cloud_credentials import CloudCredentialProvider
from providers.truenas.cloud_sync_tasks import CloudSyncTaskProvider
from providers.truenas.snapshot_tasks import SnapshotTaskProvider

__all__ = ["CloudCredentialProvider", "CloudSyncTaskProvider", "SnapshotTaskProvider"]
