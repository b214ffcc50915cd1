"""TrueNAS dynamic providers over the JSON-RPC 2.0 WebSocket API (periodic snapshots, cloud credentials, cloud sync)."""
