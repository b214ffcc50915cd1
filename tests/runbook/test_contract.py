"""The contract's content beyond its shape: procedures fit the source, pings match the jobs that send them."""

from __future__ import annotations

from typing import Any

from runbook.contract import RTO_TARGET_HOURS
from tests.components.harness import stack_run


def test_export_procedures_name_only_their_own_engine(prod_runbook: dict[str, Any]) -> None:
    sqlite = " ".join(s.get("command", "") for s in prod_runbook["datasets"]["vaultwarden-sqlite"]["restore"])
    pg_dump = " ".join(s.get("command", "") for s in prod_runbook["datasets"]["immich-db-dump"]["restore"])
    assert "db.sqlite3" in sqlite and "pg_restore" not in sqlite
    assert "pg_restore" in pg_dump and "-d immich" in pg_dump and "sqlite3" not in pg_dump


def test_pvc_steps_name_the_namespace_and_mover(prod_runbook: dict[str, Any]) -> None:
    vaultwarden = prod_runbook["datasets"]["vaultwarden"]
    text = " ".join(s["why"] + s.get("command", "") for s in vaultwarden["restore"])
    assert "kubectl -n security" in text and "spec.restic.previous" in text
    assert vaultwarden["pvc"] == {"namespace": "security", "claim": "vaultwarden-data", "mover": "restic"}
    grafana = prod_runbook["datasets"]["grafana"]  # moved to Kopiur: restored through dataSourceRef
    text = " ".join(s["why"] + s.get("command", "") for s in grafana["restore"])
    assert "kubectl -n monitoring" in text and '"kind": "Restore"' in text and "replicationdestination" not in text
    assert grafana["pvc"] == {"namespace": "monitoring", "claim": "grafana", "mover": "kopiur"}


def test_postgres_copies_carry_their_repository_number_and_options(prod_runbook: dict[str, Any]) -> None:
    immich = prod_runbook["datasets"]["immich-db"]
    assert immich["postgres"]["stanza"] == "postgres18-immich"
    for n, copy in enumerate(immich["copies"], start=1):
        assert copy["repo_index"] == n
        values = copy["pgbackrest_repository"]["values"]
        assert values[f"repo{n}-s3-bucket"] == copy["bucket"]
        assert values[f"repo{n}-path"] == "/" + copy["repository"]
        assert copy["pgbackrest_repository"]["from_secrets"][f"repo{n}-cipher-pass"] == "cipher_pass"
        assert f"repo{n}-cipher-pass" in copy["escrow"]["holds"]


def test_rto_targets_shrink_with_the_tier() -> None:
    assert RTO_TARGET_HOURS[1][0] < RTO_TARGET_HOURS[2][0] < RTO_TARGET_HOURS[3][0]
    assert RTO_TARGET_HOURS[3][1] is None


def test_the_contract_names_exactly_the_checks_and_drills_that_ping(prod_runbook: dict[str, Any]) -> None:
    """Every slug a Kubernetes job pings (the keys of the rendered ping Secrets) is a check, drill or export dump
    the contract lists, and every check and drill it lists is pinged: one drill per drilled dataset."""
    registered, _ = stack_run("prod")
    ping_secrets = [r for r in registered if r.typ.endswith(":ExternalSecret")
                    and r.name.endswith(f"-healthchecks-{r.inputs['metadata']['namespace']}")]
    assert ping_secrets
    pinged = {key for r in ping_secrets for key in r.inputs["spec"]["target"]["template"]["data"]}
    listed, dumps = set(), set()
    for ds in prod_runbook["datasets"].values():
        drills = [c for c in ds["copies"] if "drill" in c["healthcheck"]]
        if ds["verification"]["drill_every_days"] and "drilled_copy" in ds["verification"]:
            assert [c["destination"] for c in drills] == [ds["verification"]["drilled_copy"]]
        else:
            assert drills == []
        for c in ds["copies"]:
            listed |= {c["healthcheck"][role] for role in ("check", "drill") if role in c["healthcheck"]}
            if ds["source"] == "export" and c["tool"] in ("sqlite", "pg_dump"):
                dumps.add(c["healthcheck"]["backup"])
        checked = [c for c in ds["copies"] if "check" in c["healthcheck"]]
        kopiur = ds.get("pvc", {}).get("mover") == "kopiur"  # verified by Kopiur itself, watched by metrics
        assert bool(checked) == (ds["verification"]["check_every_days"] > 0 and ds["source"] in ("pvc", "postgres")
                                 and not kopiur)
    assert pinged == listed | dumps
