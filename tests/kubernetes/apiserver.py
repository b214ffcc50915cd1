"""A real Kubernetes API server on loopback: etcd (Debian's etcd-server) and kube-apiserver (built by
scripts/kube-apiserver.sh), with the upstream CRDs from `<repo>/../shared/crds` installed.

No controllers run (no kube-controller-manager, no operators): objects are stored, validated, defaulted and
served exactly as a cluster's API server would, and nothing reconciles them. That is what the program's apply
mode and Flux's server-side apply talk to.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.engine.project import free_port
from tests.manifests.crd_schema import SHARED

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = SHARED / "crds"
TOKEN = "homelab-backups-tests"  # noqa: S105 (a loopback test server's admin token, not a secret)

VOLSYNC_VARIANTS = ("volsync", "volsync-kopia")
"""Upstream VolSync and the kopia fork define the same kinds; one server holds one of them at a time."""


class ApiServerMissing(RuntimeError):
    """kube-apiserver or etcd is not installed."""


def binaries() -> tuple[Path, Path]:
    """(kube-apiserver, etcd), or ApiServerMissing naming the command that installs the missing one."""
    apiserver = ROOT / ".toolchain" / "bin" / "kube-apiserver"
    etcd = shutil.which("etcd")
    if not apiserver.exists():
        raise ApiServerMissing(f"{apiserver} is missing: run `bash scripts/kube-apiserver.sh` (cached Go build)")
    if etcd is None:
        raise ApiServerMissing("etcd is missing: run `bash scripts/services.sh install` (Debian etcd-server)")
    return apiserver, Path(etcd)


def crd_files(volsync: str = "volsync") -> list[Path]:
    """Every upstream CRD file; of the two VolSync trees only `volsync` (KopiaMaintenance exists only in the fork)."""
    files = []
    for folder in sorted(p for p in CRD_DIR.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.yaml")):
            if folder.name in VOLSYNC_VARIANTS and folder.name != volsync and "kopiamaintenances" not in path.name:
                continue
            files.append(path)
    if not files:
        raise FileNotFoundError(f"no CRDs under {CRD_DIR}: the tests need the shared data checked out there")
    return files


def load_crd(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


class ApiError(AssertionError):
    """The API server refused a request; `status` and `message` are the server's."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        try:
            message = json.loads(body).get("message", body)
        except ValueError:
            message = body
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


@dataclass
class ApiServer:
    """A running etcd + kube-apiserver pair; `request` speaks to it as the cluster admin."""

    workdir: Path
    port: int
    processes: list[subprocess.Popen[bytes]]
    volsync: str = "volsync"
    gc_errors: list[str] = field(default_factory=list)
    """What the stand-in garbage collector could not do (see `collecting_garbage`)."""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.workdir / "certs" / "apiserver.crt"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    # -- HTTP -------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                params: dict[str, str] | None = None, ok: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = requests.request(
            method, self.url + path, data=data, params=params, verify=str(self.ca_file), timeout=60,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type, "Accept": "application/json"})
        if response.status_code not in ok:
            raise ApiError(method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def exists(self, path: str) -> bool:
        return self.request("GET", path, ok=(200, 404)).get("kind") != "Status"

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, obj)

    def apply(self, obj: dict[str, Any], field_manager: str, dry_run: bool = False, force: bool = False,
              text: str | None = None) -> dict[str, Any]:
        """Server-side apply (what Flux's kustomize-controller does), optionally as a dry run.

        The body is `text` when given (a rendered file's YAML, read by the server), else `obj` as JSON.
        """
        params = {"fieldManager": field_manager}
        if dry_run:
            params["dryRun"] = "All"
        if force:
            params["force"] = "true"
        return self.request("PATCH", self.object_path(obj), text if text is not None else json.dumps(obj),
                            "application/apply-patch+yaml", params)

    def object_path(self, obj: dict[str, Any]) -> str:
        """The REST path of an object, from its apiVersion, kind, namespace and name (via discovery)."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        plural, namespaced = self._resource(base, kind)
        meta = obj["metadata"]
        where = f"/namespaces/{meta['namespace']}" if namespaced else ""
        return f"{base}{where}/{plural}/{meta['name']}"

    def _resource(self, base: str, kind: str) -> tuple[str, bool]:
        for resource in self.get(base)["resources"]:
            if resource["kind"] == kind and "/" not in resource["name"]:
                return resource["name"], resource["namespaced"]
        raise KeyError(f"{base} serves no kind {kind}")

    def ensure_namespace(self, name: str) -> None:
        if not self.exists(f"/api/v1/namespaces/{name}"):
            self.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # -- CRDs -------------------------------------------------------------------------------------------------

    def install_crds(self, files: list[Path]) -> list[str]:
        """Create or replace each CRD, then wait until every one is Established and served by discovery."""
        names = []
        for path in files:
            crd = load_crd(path)
            name = crd["metadata"]["name"]
            base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
            try:
                current = self.get(f"{base}/{name}")
            except ApiError as error:
                if error.status != 404:
                    raise
                self.create(base, crd)
            else:
                crd["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                self.request("PUT", f"{base}/{name}", crd)
            names.append(name)
        for path in files:
            self._wait_served(load_crd(path))
        return names

    def _wait_served(self, crd: dict[str, Any], timeout: float = 60) -> None:
        name, group = crd["metadata"]["name"], crd["spec"]["group"]
        plural = crd["spec"]["names"]["plural"]
        deadline = time.monotonic() + timeout
        while True:
            status = self.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}").get("status", {})
            established = any(c["type"] == "Established" and c["status"] == "True"
                              for c in status.get("conditions", ()))
            served = all(
                any(r["name"] == plural for r in self.request("GET", f"/apis/{group}/{v['name']}",
                                                               ok=(200, 404)).get("resources", ()))
                for v in crd["spec"]["versions"] if v.get("served"))
            if established and served:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not established and served after {timeout}s: {status}")
            time.sleep(0.2)

    @contextlib.contextmanager
    def volsync_variant(self, variant: str) -> Iterator[None]:
        """Serve the VolSync kinds from `variant`'s CRDs for the duration, then put the previous ones back."""
        previous = self.volsync
        self._switch_volsync(variant)
        try:
            yield
        finally:
            self._switch_volsync(previous)

    def _switch_volsync(self, variant: str) -> None:
        if variant not in VOLSYNC_VARIANTS:
            raise ValueError(f"unknown VolSync variant {variant!r}; one of {VOLSYNC_VARIANTS}")
        if variant != self.volsync:
            self.install_crds(sorted((CRD_DIR / variant).glob("*.yaml")))
            self.volsync = variant

    # -- what kube-controller-manager would do -----------------------------------------------------------------

    @contextlib.contextmanager
    def collecting_garbage(self, interval: float = 0.5) -> Iterator[None]:
        """Finish deletions the way the controllers of a real cluster would, while the block runs.

        No kube-controller-manager runs here, so two finalizers would hold deleted objects forever: the garbage
        collector's `foregroundDeletion` (clients such as Pulumi delete in the foreground; nothing here has
        dependents) and the PVC protection controller's `kubernetes.io/pvc-protection` (no pod uses any claim).
        """
        stop = threading.Event()
        worker = threading.Thread(target=self._collect, args=(stop, interval), name="kube-gc", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(30)

    _CONTROLLER_FINALIZERS = frozenset({"foregroundDeletion", "orphan", "kubernetes.io/pvc-protection"})

    def _collect(self, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            try:
                collections = self._collections()
            except Exception as error:  # noqa: BLE001 (kept for the test to report; the sweep must go on)
                self.gc_errors.append(f"listing CRDs: {error!r}")
                continue
            for collection in collections:
                try:
                    self._finish_deletions(collection)
                except Exception as error:  # noqa: BLE001 (same)
                    self.gc_errors.append(f"{collection}: {error!r}")

    def _finish_deletions(self, collection: str) -> None:
        for item in self.get(collection).get("items", ()):
            meta = item["metadata"]
            finalizers = set(meta.get("finalizers", ()))
            if meta.get("deletionTimestamp") and finalizers and finalizers <= self._CONTROLLER_FINALIZERS:
                base, plural = collection.rsplit("/", 1)
                where = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
                self.request("PATCH", f"{base}{where}/{plural}/{meta['name']}", {"metadata": {"finalizers": None}},
                             "application/merge-patch+json", ok=(200, 404, 409))

    def _collections(self) -> list[str]:
        paths = ["/api/v1/persistentvolumeclaims", "/api/v1/secrets", "/apis/batch/v1/cronjobs",
                 "/apis/batch/v1/jobs"]
        for crd in self.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]:
            spec = crd["spec"]
            version = next(v["name"] for v in spec["versions"] if v.get("storage"))
            paths.append(f"/apis/{spec['group']}/{version}/{spec['names']['plural']}")
        return paths

    # -- lifecycle --------------------------------------------------------------------------------------------

    def write_kubeconfig(self) -> Path:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "tests",
            "clusters": [{"name": "tests", "cluster": {"server": self.url,
                                                       "certificate-authority": str(self.ca_file)}}],
            "users": [{"name": "admin", "user": {"token": TOKEN}}],
            "contexts": [{"name": "tests", "context": {"cluster": "tests", "user": "admin"}}],
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))
        return self.kubeconfig

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait(check, what: str, processes: list[subprocess.Popen[bytes]], logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(requests.RequestException, OSError):
            if check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout}s; logs: {', '.join(map(str, logs))}")
        time.sleep(0.3)


def start(workdir: Path, timeout: float = 180) -> ApiServer:
    """Start etcd and kube-apiserver on free loopback ports under `workdir`; return once /readyz answers ok."""
    apiserver_bin, etcd_bin = binaries()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "certs").mkdir(exist_ok=True)
    client, peer, secure = free_port(), free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def spawn(name: str, argv: list[str]) -> None:
        log = workdir / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            processes.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                                              start_new_session=True))

    try:
        etcd_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        spawn("etcd", [str(etcd_bin), "--name", "tests", "--data-dir", str(workdir / "etcd"),
                       "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
                       "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                       "--initial-cluster", f"tests={peer_url}", "--log-level", "warn"])
        _wait(lambda: requests.get(f"{etcd_url}/health", timeout=2).json().get("health") == "true",
              "etcd", processes, logs, timeout)

        key = workdir / "service-account.key"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        tokens = workdir / "tokens.csv"
        tokens.write_text(f'{TOKEN},admin,admin,"system:masters"\n')
        spawn("kube-apiserver", [
            str(apiserver_bin), "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(secure),
            "--cert-dir", str(workdir / "certs"), "--token-auth-file", str(tokens),
            "--authorization-mode", "RBAC",
            "--service-account-key-file", str(key), "--service-account-signing-key-file", str(key),
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-cluster-ip-range", "10.96.0.0/16",
            # A loopback advertise address is refused by the endpoint reconciler; nothing here needs it.
            "--endpoint-reconciler-type", "none",
            "--enable-priority-and-fairness=false", "--profiling=false", "-v", "1",
        ])
        server = ApiServer(workdir, secure, processes)
        _wait(lambda: server.ca_file.exists() and requests.get(
            f"{server.url}/readyz", verify=str(server.ca_file), timeout=5,
            headers={"Authorization": f"Bearer {TOKEN}"}).text == "ok", "kube-apiserver", processes, logs, timeout)
        server.write_kubeconfig()
        return server
    except BaseException:
        ApiServer(workdir, secure, processes).stop()
        raise

