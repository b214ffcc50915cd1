"""Restoring a NAS from its configuration export (`nas-config` dataset): the runbook's procedure.

The export is `config.save`'s bundle (manifests/nas_config.py), so the restore is TrueNAS's own Upload Config.
"""

from __future__ import annotations

from plan.units import ProtectionUnit
from runbook.steps import step


def restore_steps(unit: ProtectionUnit) -> list[dict[str, str]]:
    """From a rebuilt (or reinstalled) NAS back to the configuration of the newest export."""
    export = unit.plan.export
    if export is None:
        raise ValueError(f"{unit.name} has no export plan")
    path, target = export.target_path, export.target_dataset
    return [
        step("Find the newest export",
              f"Exports are tar files in {path}, inside dataset {target}. If the NAS's pool survived, they are "
              f"there (or in its snapshots). If the NAS is lost, bring {target}'s offsite copy back first, with "
              f"the commands of {target}'s runbook (rclone with its crypt remote), on any machine.",
              f"ls -1t {path}/{unit.name}-*.tar  # newest first"),
        step("Check the bundle",
              "The tar holds freenas-v1.db (the configuration database) and pwenc_secret (the secret seed that "
              "decrypts the credentials stored in it: cloud keys, API keys, passwords). Treat it like a password "
              "vault. Both members must be there, and the database must pass an integrity check.",
              "tar -tf <newest .tar>  # freenas-v1.db and pwenc_secret; then: tar -xOf <newest .tar> freenas-v1.db "
              "> /tmp/c.db && sqlite3 /tmp/c.db 'PRAGMA integrity_check;'"),
        step("Install TrueNAS and upload the configuration",
              "Install the same TrueNAS release as the export came from, or a newer one (the database is migrated "
              "forward, never back). Then System > General Settings > Manage Configuration > Upload File with the "
              "tar: TrueNAS applies the database and the secret seed and reboots. This is config.upload, the "
              "vendor's own restore path for a config.save bundle."),
        step("Bring the pools and tasks back",
              "After the reboot, import the data pools if they were not found (Storage > Import Pool), then check "
              "that the cloud credentials still verify (a wrong or missing seed shows as credentials that fail to "
              "decrypt) and that the snapshot and cloud sync tasks are enabled. Finally run `pulumi refresh` and "
              "`pulumi up`: the program finds its tasks by description and converges them."),
    ]
