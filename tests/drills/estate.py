"""The drill estate: the local stack, plus a Tier 1 PostgreSQL dataset on two TLS S3 destinations, brought up
by the real engine against loopback servers; drills then read what the program generated from it.

One moto server (scripts/s3-server.sh) stores everything. Two fronts sit before it: plain HTTP for the local
stack's `local-s3` destination (its Pulumi.local.yaml endpoint, only the port differs) and HTTPS for the
`tls-a` / `tls-b` destinations pgBackRest needs. A fake Healthchecks receives the drill command's pings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config

from inventory import Inventory, load_inventory
from plan import Plan, build_plan
from tests.drills.front import S3Front
from tests.drills.healthchecks import FakeHealthchecks
from tests.drills.tls import Certificates, make_certificates
from tests.engine.project import EngineProject, free_port, s3_server

PROJECT = "homelab-backups"
PG_DATASET = "drill-db"
PG_CLUSTER = "drill-pg"
PG_DESTINATIONS = ("tls-a", "tls-b")
KEY_ID, KEY_SECRET = "engine-test-key", "engine-test-secret"
"""What EngineProject gives the local-s3 destination; the TLS destinations get the same (moto accepts any)."""


def drill_config(config: dict[str, Any], tls_endpoint: str, ping_base: str) -> dict[str, Any]:
    """The local stack's config plus the PostgreSQL dataset; vaultwarden keeps exactly its local copies."""
    config = dict(config)
    destinations = list(config[f"{PROJECT}:destinations"])
    destinations += [{"name": name, "kind": "s3-compatible", "endpoint": tls_endpoint, "flavour": "moto",
                      "offsite": True, "price_usd_per_tb_month": 6} for name in PG_DESTINATIONS]
    datasets = []
    for ds in config[f"{PROJECT}:datasets"]:
        if ds["name"] == "vaultwarden":
            # Its default would grow to every offsite destination; pin what the local stack gives it.
            ds = {**ds, "destinations": ["nas", "local-s3"]}
        datasets.append(ds)
    datasets.append({"name": PG_DATASET, "tier": 1, "size_gb": 0.1, "destinations": list(PG_DESTINATIONS),
                     "source": {"kind": "postgres", "namespace": "database", "cluster": PG_CLUSTER}})
    config[f"{PROJECT}:destinations"] = destinations
    config[f"{PROJECT}:datasets"] = datasets
    config[f"{PROJECT}:monitoring"] = {"healthchecks": {"ping_base": ping_base}}
    return config


def load_stack_inventory(stack_file: Path) -> Inventory:
    """The inventory of a stack file, read the way the program reads it."""
    raw = yaml.safe_load(stack_file.read_text())["config"]
    sections = {key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith(f"{PROJECT}:")}
    if "budget_usd_per_month" in sections:
        sections["budget_usd_per_month"] = float(sections["budget_usd_per_month"])
    return load_inventory(sections)


class DrillProject(EngineProject):
    """EngineProject with extra environment: TLS trust for the program's S3 calls, TLS destination keys."""

    def __init__(self, workdir: Path, s3_port: int, extra_env: dict[str, str]) -> None:
        super().__init__(workdir, s3_port=s3_port)
        self.extra_env = extra_env

    def env(self) -> dict[str, str]:
        return super().env() | self.extra_env


@dataclass
class DrillEstate:
    project: DrillProject
    plain: S3Front
    tls: S3Front
    backend_port: int
    certs: Certificates
    healthchecks: FakeHealthchecks
    outputs: dict[str, Any] = field(default_factory=dict)
    inventory: Inventory | None = None
    plan: Plan | None = None
    rendered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def runbook(self) -> dict[str, Any]:
        return self.outputs["runbook"]

    def credentials(self, destination: str, dataset: str, role: str = "credentials") -> dict[str, str]:
        """The key the program hands to the dataset's writer at a destination (`reader_credentials`: the read-only
        key of its check and drill jobs), as the stack outputs it."""
        return self.outputs[role][dataset][destination]

    def s3(self) -> Any:
        """A client straight to the S3 server (not through a front, so it never shows in request logs)."""
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.backend_port}", region_name="us-east-1",
                            aws_access_key_id=KEY_ID, aws_secret_access_key=KEY_SECRET,
                            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required"))

    def objects(self, kind: str, name: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.rendered if o.get("kind") == kind and name in (None, o["metadata"]["name"])]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = self.objects(kind, name)
        return found

    def resolve(self, secret_name: str, key: str) -> str:
        """The value key `key` of Secret `secret_name` would hold in the cluster: the rendered ExternalSecret says
        which store field feeds it; the field's value is what the program generated (or was given)."""
        external = self.one("ExternalSecret", secret_name)
        (entry,) = [d for d in external["spec"]["data"] if d["secretKey"] == key]
        field_name = entry["remoteRef"]["property"]
        labels = external["metadata"]["labels"]
        dataset, destination = labels["backup.homelab/dataset"], labels["backup.homelab/destination"]
        if field_name in ("repository_password", "cipher_pass"):
            return self.outputs["secrets"][dataset][destination]
        if field_name.startswith("reader_"):
            return self.credentials(destination, dataset, "reader_credentials")[field_name.removeprefix("reader_")]
        return self.credentials(destination, dataset)[field_name]

    def secret_env(self, secret_name: str) -> dict[str, str]:
        """The whole Secret as the mover would see it: template values plus resolved store fields."""
        external = self.one("ExternalSecret", secret_name)
        env = dict(external["spec"]["target"]["template"].get("data", {}))
        for entry in external["spec"]["data"]:
            env[entry["secretKey"]] = self.resolve(secret_name, entry["secretKey"])
        return env


@contextlib.contextmanager
def deployed_estate(workdir: Path, pg_destinations: tuple[str, ...],
                    configure: Callable[[dict[str, Any], str, str], dict[str, Any]],
                    env: dict[str, str] | None = None) -> Iterator[DrillEstate]:
    """Servers up (moto, its plain and TLS fronts, a fake Healthchecks), the local stack's config rewritten by
    `configure(config, tls_endpoint, ping_base)`, `pulumi up`, outputs read with secrets; everything stopped
    afterwards. `pg_destinations` get the test key pair; `env` adds to the engine's environment."""
    backend = free_port()
    certs = make_certificates(workdir / "tls")
    with contextlib.ExitStack() as stack:
        s3_server("start", backend)
        stack.callback(s3_server, "stop", backend)
        plain = stack.enter_context(S3Front(backend))
        tls = stack.enter_context(S3Front(backend, certs.cert, certs.key))
        healthchecks = stack.enter_context(FakeHealthchecks())
        extra = {"AWS_CA_BUNDLE": str(certs.ca), **(env or {})}
        for name in pg_destinations:
            prefix = "HLB_" + name.upper().replace("-", "_") + "_"
            extra |= {prefix + "ACCESS_KEY_ID": KEY_ID, prefix + "SECRET_ACCESS_KEY": KEY_SECRET}
        project = DrillProject(workdir, plain.port, extra)
        stack_file = project.dir / "Pulumi.local.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["config"] = configure(document["config"], tls.endpoint, healthchecks.ping_base)
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        project.run("stack", "init", "local")
        project.run("up", "--stack", "local", "--yes", "--skip-preview")
        estate = DrillEstate(project, plain, tls, backend, certs, healthchecks)
        estate.outputs = project.outputs("local", show_secrets=True)
        estate.inventory = load_stack_inventory(stack_file)
        estate.plan = build_plan(estate.inventory)
        estate.rendered = [doc for path in sorted((project.dir / "rendered").rglob("*.yaml"))
                           for doc in yaml.safe_load_all(path.read_text()) if doc]
        yield estate


@contextlib.contextmanager
def drill_estate(workdir: Path) -> Iterator[DrillEstate]:
    """The drill stack deployed (`deployed_estate` with `drill_config`)."""
    with deployed_estate(workdir, PG_DESTINATIONS, drill_config) as estate:
        yield estate
