"""Proxmox dynamic providers over the PVE and PBS REST APIs (through `proxmoxer`), one module per service.

- `backup_jobs`: PVE `/cluster/backup`, the vzdump jobs;
- `pbs_jobs`: PBS `/config/sync`, `/config/prune`, `/config/verify`, and a datastore's garbage-collection schedule;
- `service`: what they share (connection input, token from the provider's configuration, the CRUD lifecycle).
"""
