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

from tests.drills.estate import PROJECT, DrillEstate, deployed_estate
from tests.truenas_simulator import TrueNASSimulator
from tests.truenas_simulator.pki import make_pki, server_context

RESTIC_DATASET, RESTIC_DESTINATION = "vaultwarden", "local-s3"
PG_DATASET, PG_CLUSTER = "site-db", "site-pg"
PG_DESTINATIONS = ("tls-a", "tls-b")
NAS_DATASET, NAS_ZFS_DATASET = "site-files", "tank/photos"
NAS_DESTINATIONS = ("local-s3", "tls-b")


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
    """The TrueNAS simulator up, then the site stack deployed against it (`deployed_estate`); everything stopped
    afterwards. The NAS simulator is yielded separately: the drill stops it to lose the NAS."""
    (workdir / "nas-pki").mkdir()
    pki = make_pki(workdir / "nas-pki")
    with TrueNASSimulator(tls=server_context(pki)) as nas:
        nas.pki = pki
        nas_config = {"host": f"127.0.0.1:{nas.port}", "ca_file": str(pki["ca"])}

        def configure(config: dict[str, Any], tls_endpoint: str, ping_base: str) -> dict[str, Any]:
            return site_config(config, tls_endpoint, ping_base, nas_config)

        with deployed_estate(workdir, PG_DESTINATIONS, configure, {"HLB_TRUENAS_API_KEY": nas.api_key}) as estate:
            yield estate, nas
