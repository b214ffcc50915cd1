"""The PVE simulator's guest side, for the restore drill: backups on storages, restore, tasks, configs, destroy.

Follows PVE's published API (pve-docs api-viewer) and its behaviour where it is inconvenient:
- `GET /nodes/{node}/storage/{storage}/content?content=backup` lists backup volumes (`volid`, `vmid`, `ctime`,
  `size`, `format`); `GET /nodes/{node}/vzdump/extractconfig?volume=` returns the configuration inside an archive.
- `POST /nodes/{node}/qemu` with `archive` (and `POST /nodes/{node}/lxc` with `ostemplate` + `restore=1`) is a
  restore: the VM id must be free (a restore to an existing id fails unless `force`), the archive, the pool and the
  target storage must exist; the answer is a task id (UPID) and the restore runs asynchronously: the guest exists,
  locked, while the task runs, and has its configuration when it ends. `unique=1` gives every network interface a
  new MAC address; disks excluded from the backup (qemu `backup=0`, container mount points without `backup=1`)
  do not come back. A failed restore removes the half-restored guest (as qemu-server and pct do for a new id).
- `GET /nodes/{node}/tasks/{upid}/status` says `running` for `task_polls` polls, then `stopped` with `exitstatus`.
- `DELETE /nodes/{node}/{qemu|lxc}/{vmid}` is a task too; a locked guest cannot be destroyed; `purge=1` also drops
  it from pools and backup jobs.
Request bodies are validated against PVE's schema by fakepve (through `ProxmoxSimulator._validate`).

Fault injection: `fail_next_task(type, message)` ends the next task of that type (`qmrestore`, `vzrestore`,
`qmdestroy`, `vzdestroy`) with `message` as its exit status; `resize_next_restore(size)` makes the next restore
bring its first disk back with another size (a truncated archive).
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tests.proxmox_simulator.server import ApiError, ProxmoxSimulator

QEMU_DISK = re.compile(r"(ide|sata|scsi|virtio|efidisk|tpmstate)\d+")
MAC = re.compile(r"(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")


class GuestSimulator(ProxmoxSimulator):
    """The PVE simulator plus guests' backups, restores, tasks, configurations and pools."""

    def __init__(self, *args: Any, task_polls: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_polls = task_polls
        self.backups: dict[str, list[dict[str, Any]]] = {}
        self.configs: dict[int, dict[str, str]] = {}
        self.locks: dict[int, str] = {}
        self.pools: set[str] = set()
        self.tasks: dict[str, dict[str, Any]] = {}
        self._task_faults: dict[str, str] = {}
        self._resize: str | None = None
        self._macs = itertools.count(0x10)
        self._pids = itertools.count(0x1000)

    # --- test controls -----------------------------------------------------------------------------------------

    def add_backup(self, storage: str, vmid: int, kind: str = "qemu", ctime: int = 1_760_000_000,
                   config: dict[str, str] | None = None, pbs: bool = False) -> str:
        """Put a backup of guest `vmid` on `storage`; returns its volid (directory or PBS naming)."""
        if config is None:
            config = ({"scsi0": f"local-lvm:vm-{vmid}-disk-0,size=32G", "ide2": "none,media=cdrom",
                       "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1", "memory": "2048"}
                      if kind == "qemu" else
                      {"rootfs": f"local-lvm:subvol-{vmid}-disk-0,size=8G", "unprivileged": "1",
                       "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=dhcp"})
        stamp = time.strftime("%Y_%m_%d-%H_%M_%S", time.gmtime(ctime))
        if pbs:
            volid = f"{storage}:backup/{'vm' if kind == 'qemu' else 'ct'}/{vmid}/" \
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ctime))}"
            fmt = "pbs-vm" if kind == "qemu" else "pbs-ct"
        else:
            ext = "vma.zst" if kind == "qemu" else "tar.zst"
            volid, fmt = f"{storage}:backup/vzdump-{kind}-{vmid}-{stamp}.{ext}", ext
        text = "#backed up by the simulator\n" + "".join(f"{k}: {v}\n" for k, v in config.items())
        self.backups.setdefault(storage, []).append({"volid": volid, "vmid": vmid, "ctime": ctime, "size": 1 << 30,
                                                     "format": fmt, "content": "backup", "kind": kind,
                                                     "config": text})
        self.storages.add(storage)
        return volid

    def fail_next_task(self, task_type: str, message: str) -> None:
        self._task_faults[task_type] = message

    def resize_next_restore(self, size: str) -> None:
        self._resize = size

    # --- routes -------------------------------------------------------------------------------------------------

    def _pve(self, method: str, path: str, params: dict[str, Any]) -> Any:
        found = re.fullmatch(r"/nodes/([^/]+)/(.+)", path)
        if found is None:
            if re.fullmatch(r"/pools/([^/]+)", path) and method == "GET":
                return self._pool(path.rsplit("/", 1)[1])
            return super()._pve(method, path, params)
        node, rest = found[1], found[2]
        if node not in self.nodes:
            raise ApiError(595, f"no such cluster node '{node}'")
        content = re.fullmatch(r"storage/([^/]+)/content", rest)
        if content and method == "GET":
            return self._content(content[1], params)
        if rest == "vzdump/extractconfig" and method == "GET":
            return self._backup(params.get("volume", ""))["config"]
        if rest in ("qemu", "lxc") and method == "POST":
            return self._restore(node, rest, params)
        task = re.fullmatch(r"tasks/([^/]+)/status", rest)
        if task and method == "GET":
            return self._task_status(task[1])
        guest = re.fullmatch(r"(qemu|lxc)/(\d+)(/config)?", rest)
        if guest:
            kind, vmid = guest[1], int(guest[2])
            if guest[3] and method == "GET":
                return {"digest": "0" * 40, **self._config(node, kind, vmid)}
            if guest[3] and method in ("PUT", "POST"):
                return self._set_config(node, kind, vmid, params, path)
            if not guest[3] and method == "DELETE":
                return self._destroy(node, kind, vmid, params)
        return super()._pve(method, path, params)

    def _pool(self, pool: str) -> dict[str, Any]:
        if pool not in self.pools:
            raise ApiError(500, f"pool '{pool}' does not exist")
        return {"members": [{"id": f"{g['type']}/{v}", "vmid": v, "node": g["node"], "type": g["type"]}
                            for v, g in sorted(self.guests.items()) if g["pool"] == pool]}

    def _content(self, storage: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if storage not in self.storages:
            raise ApiError(500, f"storage '{storage}' does not exist")
        wanted = params.get("content")
        return [{k: b[k] for k in ("volid", "vmid", "ctime", "size", "format", "content")}
                | {"verification": {"state": "ok", "upid": "UPID:x"}}
                for b in self.backups.get(storage, []) if wanted in (None, b["content"])]

    def _backup(self, volid: str) -> dict[str, Any]:
        for backups in self.backups.values():
            for backup in backups:
                if backup["volid"] == volid:
                    return backup
        raise ApiError(500, f"volume '{volid}' does not exist")

    def _config(self, node: str, kind: str, vmid: int) -> dict[str, str]:
        guest = self.guests.get(vmid)
        if guest is None or guest["node"] != node or guest["type"] != kind:
            where = "qemu-server" if kind == "qemu" else "lxc"
            raise ApiError(500, f"Configuration file 'nodes/{node}/{where}/{vmid}.conf' does not exist")
        return self.configs.get(vmid, {})

    # --- restore ------------------------------------------------------------------------------------------------

    def _restore(self, node: str, kind: str, params: dict[str, Any]) -> str:
        values = self._validate(f"/nodes/{{node}}/{kind}", "POST", {**params, "node": node})
        vmid = int(values["vmid"])
        archive = values.get("archive") if kind == "qemu" else values.get("ostemplate")
        if kind == "lxc" and str(values.get("restore", 0)) not in ("1", "true"):
            raise ApiError(501, "the simulator creates containers only by restore (restore=1)")
        if not archive:
            raise ApiError(501, "the simulator creates VMs only by restore (archive)")
        what = "VM" if kind == "qemu" else "CT"
        if vmid in self.guests:
            owner = self.guests[vmid]
            other = "VM" if owner["type"] == "qemu" else "CT"
            raise ApiError(500, f"unable to restore {what} {vmid} - {other} {vmid} already exists on node "
                                f"'{owner['node']}'")
        pool = values.get("pool")
        if pool and pool not in self.pools:
            raise ApiError(403, f"Permission check failed (pool '{pool}' does not exist)")
        target = values.get("storage") or "local"
        if self.storages and target not in self.storages:
            raise ApiError(500, f"storage '{target}' does not exist")
        backup = self._backup(archive)
        if backup["kind"] != kind:
            raise ApiError(500, f"unable to restore {what} {vmid} - archive {archive} is not a {kind} backup")
        self.add_guest(vmid, node=node, kind=kind, name=f"restore-{vmid}", pool=pool or "")
        self.locks[vmid] = "create"
        unique = str(values.get("unique", 0)) in ("1", "true")
        resize, self._resize = self._resize, None

        def done() -> None:
            self.locks.pop(vmid, None)
            self.configs[vmid] = self._restored(backup, kind, vmid, target, unique, resize)

        def undo() -> None:
            self.locks.pop(vmid, None)
            self.guests.pop(vmid, None)

        return self._start_task(node, "qmrestore" if kind == "qemu" else "vzrestore", vmid, done, undo)

    def _restored(self, backup: dict[str, Any], kind: str, vmid: int, target: str, unique: bool,
                  resize: str | None) -> dict[str, str]:
        config: dict[str, str] = {}
        disk = 0
        for line in backup["config"].splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition(": ")
            is_disk = bool(QEMU_DISK.fullmatch(key)) and "media=cdrom" not in value if kind == "qemu" else \
                key == "rootfs" or re.fullmatch(r"mp\d+", key) is not None
            if is_disk:
                options = value.split(",")[1:]
                if (kind == "qemu" and "backup=0" in options) or (key.startswith("mp") and "backup=1" not in options):
                    continue
                if resize is not None:
                    options = [f"size={resize}" if o.startswith("size=") else o for o in options]
                    resize = None
                volume = f"vm-{vmid}-disk-{disk}" if kind == "qemu" else f"subvol-{vmid}-disk-{disk}"
                disk += 1
                value = ",".join([f"{target}:{volume}", *options])
            elif re.fullmatch(r"net\d+", key) and unique:
                value = MAC.sub(lambda _: f"BC:24:11:7E:00:{next(self._macs) % 256:02X}", value)
            config[key] = value
        return config

    # --- tasks --------------------------------------------------------------------------------------------------

    def _start_task(self, node: str, task_type: str, vmid: int, done: Any, undo: Any = None) -> str:
        pid = next(self._pids)
        upid = f"UPID:{node}:{pid:08X}:{pid * 7:08X}:{int(time.time()):08X}:{task_type}:{vmid}:{self.token_id}:"
        self.tasks[upid] = {"upid": upid, "node": node, "pid": pid, "pstart": pid * 7, "starttime": int(time.time()),
                            "type": task_type, "id": str(vmid), "user": self.token_id.split("!")[0],
                            "status": "running", "polls": self.task_polls, "done": done, "undo": undo,
                            "fault": self._task_faults.pop(task_type, None)}
        return upid

    def _task_status(self, upid: str) -> dict[str, Any]:
        task = self.tasks.get(upid)
        if task is None:
            raise ApiError(500, f"unable to parse worker upid '{upid}'" if not upid.startswith("UPID:")
                           else "no such task")
        if task["status"] == "running":
            task["polls"] -= 1
            if task["polls"] <= 0:
                task["status"] = "stopped"
                if task["fault"] is not None:
                    task["exitstatus"] = task["fault"]
                    if task["undo"] is not None:
                        task["undo"]()
                else:
                    task["exitstatus"] = "OK"
                    task["done"]()
        return {k: v for k, v in task.items() if k not in ("polls", "done", "undo", "fault")}

    # --- configuration and removal --------------------------------------------------------------------------------

    def _set_config(self, node: str, kind: str, vmid: int, params: dict[str, Any], path: str) -> None:
        config = self._config(node, kind, vmid)
        if vmid in self.locks:
            raise ApiError(500, f"VM is locked ({self.locks[vmid]})")
        values = self._validate(f"/nodes/{{node}}/{kind}/{{vmid}}/config", "PUT",
                                {**params, "node": node, "vmid": vmid})
        config.update({k: str(v) for k, v in values.items() if k not in ("node", "vmid", "digest", "delete")})

    def _destroy(self, node: str, kind: str, vmid: int, params: dict[str, Any]) -> str:
        self._config(node, kind, vmid)
        self._validate(f"/nodes/{{node}}/{kind}/{{vmid}}", "DELETE", {**params, "node": node, "vmid": vmid})
        if vmid in self.locks:
            raise ApiError(500, f"VM is locked ({self.locks[vmid]})")
        purge = str(params.get("purge", 0)) in ("1", "true")

        def done() -> None:
            self.guests.pop(vmid, None)
            self.configs.pop(vmid, None)
            if purge:
                for job in self.jobs.values():
                    if "vmid" in job:
                        job["vmid"] = ",".join(v for v in str(job["vmid"]).split(",") if v != str(vmid))

        return self._start_task(node, "qmdestroy" if kind == "qemu" else "vzdestroy", vmid, done)
