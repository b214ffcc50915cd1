"""TrueNAS dynamic providers over the JSON-RPC 2.0 WebSocket API, one module per middleware service.

- `snapshot_tasks`: `pool.snapshottask`, periodic ZFS snapshots;
- `cloud_credentials`: `cloudsync.credentials`, the B2/S3 keys cloud sync writes with;
- `cloud_sync_tasks`: `cloudsync`, rclone push tasks and their Healthchecks scripts;
- `service`: what they share (connection input, CRUD lifecycle, schedule checks); `client`: the JSON-RPC client.
"""
