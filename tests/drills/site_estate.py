"""The site-loss estate: one Tier 1 dataset of each kind a site loses with its NAS and cluster, brought up by the
real engine against loopback stand-ins, so the backups the site-loss drill restores were written with exactly
what the program configured.

- `vaultwarden`: a PVC backed up by VolSync's restic mover (offsite copy on the plain-HTTP S3 destination);
- `site-db`: PostgreSQL through the pgBackRest Stanza (two TLS S3 repositories, as pgBackRest needs HTTPS);
- `site-files`: a NAS dataset whose cloud sync tasks the program creates on the TrueNAS API simulator.

Names differ from the restore-drill estate's (stanza `site-pg`), so pgBackRest's lock files never meet theirs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from plan import build_plan
from tests.drills.estate import PROJECT, DrillEstate, DrillProject, load_stack_inventory
from tests.drills.front import S3Front
from tests.drills.healthchecks import FakeHealthchecks
from tests.drills.tls import make_certificates
from tests.engine.project import free_port, s3_server
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

RESTIC_DATASET, RESTIC_DESTINATION = "vaultwarden", "local-s3"
PG_DATASET, PG_CLUSTER = "site-db", "site-pg"
PG_DESTINATIONS = ("tls-a", "tls-b")
NAS_DATASET, NAS_ZFS_DATASET = "site-files", "tank/photos"
NAS_DESTINATIONS = ("local-s3", "tls-b")
KEY_ID, KEY_SECRET = "engine-test-key", "engine-test-secret"


def site_config(config: dict[str, Any], tls_endpoint: str, ping_base: str, nas: dict[str, str]) -> dict[str, Any]:
    """The local stack's config with TLS destinations, a Tier 1 database and a Tier 1 NAS dataset."""
    config = dict(config)
    config[f"{PROJECT}:destinations"] = [*config[f"{PROJECT}:destinations"], *(
        {"name": name, "kind": "s3-compatible", "endpoint": tls_endpoint, "flavour": "moto", "offsite": True,
         "price_usd_per_tb_month": 6} for name in PG_DESTINATIONS)]
    datasets = [{**ds, "destinations": ["nas", RESTIC_DESTINATION]} if ds["name"] == RESTIC_DATASET else ds
                for ds in config[f"{PROJECT}:datasets"]]
    datasets.append({"name": PG_DATASET, "tier": 1, "size_gb": 0.1, "destinations": list(PG_DESTINATIONS),
                     "source": {"kind": "postgres", "namespace": "database", "cluster": PG_CLUSTER}})
    datasets.append({"name": NAS_DATASET, "tier": 1, "size_gb": 1, "destinations": list(NAS_DESTINATIONS),
                     "source": {"kind": "truenas", "dataset": NAS_ZFS_DATASET}})
    config[f"{PROJECT}:datasets"] = datasets
    config[f"{PROJECT}:monitoring"] = {"healthchecks": {"ping_base": ping_base}}
    config[f"{PROJECT}:truenas"] = nas
    return config


@contextlib.contextmanager
def site_estate(workdir: Path) -> Iterator[tuple[DrillEstate, TrueNASSimulator]]:
    """Servers up and `pulumi up` of the site stack; outputs read with secrets; everything stopped afterwards.
    The NAS simulator is yielded separately: the drill stops it to lose the NAS."""
    backend = free_port()
    certs = make_certificates(workdir / "tls")
    (workdir / "nas-pki").mkdir()
    pki = make_pki(workdir / "nas-pki")
    with contextlib.ExitStack() as stack:
        s3_server("start", backend)
        stack.callback(s3_server, "stop", backend)
        plain = stack.enter_context(S3Front(backend))
        tls = stack.enter_context(S3Front(backend, certs.cert, certs.key))
        healthchecks = stack.enter_context(FakeHealthchecks())
        nas = stack.enter_context(TrueNASSimulator(tls=server_context(pki)))
        nas.pki = pki
        extra = {"AWS_CA_BUNDLE": str(certs.ca), "HLB_TRUENAS_API_KEY": nas.api_key}
        for name in PG_DESTINATIONS:
            prefix = "HLB_" + name.upper().replace("-", "_") + "_"
            extra |= {prefix + "ACCESS_KEY_ID": KEY_ID, prefix + "SECRET_ACCESS_KEY": KEY_SECRET}
        project = DrillProject(workdir, plain.port, extra)
        stack_file = project.dir / "Pulumi.local.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["config"] = site_config(document["config"], tls.endpoint, healthchecks.ping_base,
                                         {"host": f"127.0.0.1:{nas.port}", "ca_file": str(pki["ca"])})
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        project.run("stack", "init", "local")
        project.run("up", "--stack", "local", "--yes", "--skip-preview")
        estate = DrillEstate(project, plain, tls, backend, certs, healthchecks)
        estate.outputs = project.outputs("local", show_secrets=True)
        estate.inventory = load_stack_inventory(stack_file)
        estate.plan = build_plan(estate.inventory)
        estate.rendered = [doc for path in sorted((project.dir / "rendered").rglob("*.yaml"))
                           for doc in yaml.safe_load_all(path.read_text()) if doc]
        yield estate, nas
