"""The runbooks `python -m runbook generate` renders: a restore runbook for every dataset of the prod inventory that a
newcomer can follow, an estate overview with restore-time estimates against the RTO, the same bytes for the same
outputs, and secrets only when asked."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from runbook.__main__ import main
from runbook.contract import PING_BASE_SECRET
from runbook.render import DIAGRAM, OVERVIEW, locked_offsite, render, three_two_one
from tests.components.harness import ROOT
from tests.drills.estate import load_stack_inventory
from tests.drills.runbook_text import OUTSIDE, fill_in_table, placeholders, section, shell_blocks


def _reverse_keys(value: Any) -> Any:
    """The same document with every mapping in the opposite key order (what another JSON writer might do)."""
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def _secret_values(secrets: dict[str, Any]) -> list[str]:
    values = []
    for per_dataset in secrets.values():
        if isinstance(per_dataset, str):
            continue  # the ping base: never in a runbook, even with --show-secrets (test_ping_key_never_in_a_runbook)
        for value in per_dataset.values():
            values += list(value.values()) if isinstance(value, dict) else [value]
    return values


def _generate(tmp_path: Path, outputs: dict[str, Any], *extra: str) -> tuple[int, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source, out = tmp_path / "outputs.json", tmp_path / "runbooks"
    source.write_text(json.dumps(outputs))
    return main(["generate", "--from", str(source), "--out", str(out), *extra]), out


def test_every_prod_dataset_has_a_restore_procedure_that_explains_each_step(prod_outputs: dict[str, Any]) -> None:
    inventory = load_stack_inventory(ROOT / "Pulumi.prod.yaml")
    files = render(prod_outputs)
    assert set(files) == {OVERVIEW, DIAGRAM} | {f"{d.name}.md" for d in inventory.datasets}
    for ds in inventory.datasets:
        text = files[f"{ds.name}.md"]
        steps = prod_outputs["runbook"]["datasets"][ds.name]["restore"]
        assert len(steps) >= 2, ds.name
        restore = text.split("\n## Restore\n", 1)[1]
        for n, step in enumerate(steps, start=1):
            assert f"{n}. **{step['title']}**\n\n   {step['why']}" in restore, (ds.name, step["title"])
            if "command" in step:
                assert f"   {step['command']}\n" in restore
        assert "## Before you start" in text and "**escrow**" in text
        assert f"[{ds.name}.md]({ds.name}.md)" in files[OVERVIEW]


def test_tool_specific_procedures_use_the_exact_repository_settings(prod_outputs: dict[str, Any]) -> None:
    files = render(prod_outputs)
    vaultwarden = prod_outputs["runbook"]["datasets"]["vaultwarden"]
    for copy in vaultwarden["copies"]:
        repository = copy["repository_secret"]["values"]["RESTIC_REPOSITORY"]
        assert f"export RESTIC_REPOSITORY={repository}\n" in files["vaultwarden.md"]
    immich = files["immich-db.md"]
    for copy in prod_outputs["runbook"]["datasets"]["immich-db"]["copies"]:
        for option, value in copy["pgbackrest_repository"]["values"].items():
            assert f"\n{option}={value}\n" in immich
    assert ('pgbackrest --config="$PWD/pgbackrest.conf" --stanza=postgres18-immich restore --type=time '
            "--target='<target-time>' --target-action=promote\n") in immich
    assert "cat > pgbackrest.conf <<'EOF'\n[global]\n" in immich and "\npg1-path=<pg-data>\nEOF\n" in immich
    assert immich.index("install -m 600 /dev/null pgbackrest.conf") < immich.index("cat > pgbackrest.conf"), \
        "the file must be private before the passphrases are written into it"


def test_cloud_sync_copies_are_read_back_with_the_crypt_remote_the_task_wrote(prod_outputs: dict[str, Any]) -> None:
    photos = render(prod_outputs)["immich-photos.md"]
    for copy in prod_outputs["runbook"]["datasets"]["immich-photos"]["copies"]:
        part = section(photos, f"From copy `{copy['destination']}` with rclone")
        script = "\n".join(shell_blocks(part))
        folder = f"{copy['bucket']}/{copy['repository']}"
        assert f"[copy]\ntype = crypt\nremote = offsite:{folder}\nfilename_encryption = standard\n" in script
        assert ("type = b2\n" if copy["kind"] == "b2" else "type = s3\nprovider = Other\n") in script
        config = f"rclone-{copy['destination']}.conf"
        assert script.index(f"install -m 600 /dev/null {config}") < script.index(f"cat > {config}")
        path = copy["escrow"]["path"]
        assert f"RCLONE_CONFIG_COPY_PASSWORD=$(printf '%s' '<{path}.password>' | rclone obscure -)" in script
        assert f"RCLONE_CONFIG_COPY_PASSWORD2=$(printf '%s' '<{path}.salt>' | rclone obscure -)" in script
        assert script.rstrip().splitlines()[-2:] == [
            "rclone copy copy: ./restored           # decrypts while downloading; crypt authenticates every block",
            "rclone cryptcheck ./restored copy:     # every restored file against the encrypted copy's checksums"]


def test_every_placeholder_in_a_restore_command_is_explained(prod_outputs: dict[str, Any]) -> None:
    files = render(prod_outputs)
    checked = 0
    for name in prod_outputs["runbook"]["datasets"]:
        text = files[f"{name}.md"]
        if OUTSIDE not in text:
            continue
        table = fill_in_table(text)
        used = set().union(*(placeholders(b) for b in shell_blocks(text.split(OUTSIDE, 1)[1])))
        assert used and used == set(table), name
        for placeholder, where in table.items():
            if placeholder.startswith("<secrets."):
                assert f"password manager item `{placeholder[1:-1]}`" in where
        checked += 1
    assert checked >= 3


def test_with_secrets_shown_only_machine_and_key_placeholders_are_left(prod_outputs: dict[str, Any]) -> None:
    photos = render(prod_outputs, show_secrets=True)["immich-photos.md"]
    assert all(not p.startswith("<secrets.") for p in fill_in_table(photos))
    value = prod_outputs["secrets"]["immich-photos"]["b2"]["salt"]
    assert f"RCLONE_CONFIG_COPY_PASSWORD2=$(printf '%s' {value} | rclone obscure -)" in photos


def test_overview_has_tiers_copies_cost_and_the_3_2_1_status_of_tier_1(prod_outputs: dict[str, Any]) -> None:
    runbook = prod_outputs["runbook"]
    overview = render(prod_outputs)[OVERVIEW]
    section = overview.split("## 3-2-1 status of Tier 1", 1)[1].split("\n## ", 1)[0]
    tier1 = [n for n, d in runbook["datasets"].items() if d["tier"] == 1]
    assert tier1 and all(re.search(rf"^\| {re.escape(n)} \|.*\| met \|$", section, re.M) for n in tier1)
    assert all(three_two_one(runbook["datasets"][n])[0] for n in tier1)
    assert all(re.search(rf"^\| {re.escape(n)} \|.*\| b2[^|]* \| met \|$", section, re.M) for n in tier1), section
    assert "R2 buckets carry no lock rule" in section
    assert all("Locked offsite copy: on b2" in page for name, page in render(prod_outputs).items()
               if name.removesuffix(".md") in tier1)
    for destination, cost in runbook["monthly_cost_usd"].items():
        assert f"| {destination} | {cost:.2f} |" in overview
    assert f"**{runbook['monthly_cost_total_usd']:.2f}**" in overview
    for tier in runbook["tiers"]:
        assert f"| {tier} (" in overview


def test_a_tier_1_dataset_without_a_locked_offsite_copy_is_reported() -> None:
    ds = {"copies": [{"destination": "r2", "offsite": True, "lock_days": 0},
                     {"destination": "b2", "offsite": True, "lock_days": 0},
                     {"destination": "nas", "offsite": False, "lock_days": 14}]}
    assert locked_offsite(ds) == []
    ds["copies"][1]["lock_days"] = 14
    assert locked_offsite(ds) == ["b2"]


def test_three_two_one_reports_a_dataset_that_falls_short() -> None:
    assert three_two_one({"copies_total": 3, "media": ["cluster-disk"], "offsite_copies": 1}) == (
        False, "3 copies, 1 media, 1 offsite")


def test_same_outputs_give_the_same_bytes(prod_outputs: dict[str, Any], tmp_path: Path) -> None:
    assert render(prod_outputs) == render(_reverse_keys(prod_outputs))
    first_status, first = _generate(tmp_path / "a", prod_outputs)
    second_status, second = _generate(tmp_path / "b", _reverse_keys(prod_outputs))
    assert first_status == second_status == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_secrets_stay_out_unless_asked_for(prod_outputs: dict[str, Any], tmp_path: Path) -> None:
    values = _secret_values(prod_outputs["secrets"])
    assert values
    status, out = _generate(tmp_path / "plain", prod_outputs)
    assert status == 0
    text = "".join(p.read_text() for p in out.iterdir())
    assert not [v for v in values if v in text]
    assert f"`{prod_outputs['runbook']['datasets']['vaultwarden']['copies'][0]['escrow']['path']}`" in text
    status, out = _generate(tmp_path / "shown", prod_outputs, "--show-secrets")
    assert status == 0
    text = "".join(p.read_text() for p in out.iterdir())
    assert all(v in text for v in values)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())


def test_show_secrets_without_secret_values_is_refused(prod_outputs: dict[str, Any], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    prod_outputs["secrets"] = "[secret]"
    status, out = _generate(tmp_path, prod_outputs, "--show-secrets")
    assert status == 2 and not out.exists()
    assert "--show-secrets" in capsys.readouterr().err


def test_outputs_that_break_the_contract_are_refused_before_anything_is_written(
        prod_outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    del prod_outputs["runbook"]["datasets"]["vaultwarden"]["copies"][0]["bucket"]
    status, out = _generate(tmp_path, prod_outputs)
    assert status == 2 and not out.exists()
    assert "runbook.datasets.vaultwarden.copies.0" in capsys.readouterr().err


def test_ping_key_never_in_a_runbook(prod_outputs: dict[str, Any], tmp_path: Path) -> None:
    ping_key = prod_outputs["secrets"][PING_BASE_SECRET].rstrip("/").rsplit("/", 1)[-1]
    assert ping_key.startswith("FAKE-PING-KEY"), "the escrowed ping base changed shape"
    for flags in ((), ("--show-secrets",)):
        status, out = _generate(tmp_path / "-".join(flags or ("plain",)), prod_outputs, *flags)
        assert status == 0
        text = "".join(p.read_text() for p in out.iterdir())
        assert ping_key not in text, flags
        copy = prod_outputs["runbook"]["datasets"]["vaultwarden"]["copies"][0]
        hc = copy["healthcheck"]
        assert f"backup `{hc['backup']}`, check `{hc['backup']}-check`, drill `{hc['backup']}-drill`" in text
        assert "the ping base at `secrets.healthchecks_ping_base`" in text


def test_runbook_output_holds_slugs_and_the_escrow_path_only(prod_outputs: dict[str, Any]) -> None:
    for ds in prod_outputs["runbook"]["datasets"].values():
        for c in ds["copies"]:
            assert re.fullmatch(r"backup-[a-z0-9-]+", c["healthcheck"]["backup"]), c["healthcheck"]
            assert "://" not in json.dumps(c["healthcheck"])
            assert c["healthcheck"]["ping_base"] == {"output": "secrets", "path": "secrets.healthchecks_ping_base"}


# --- restore-time estimates next to the RTO ---------------------------------------------------------------------------


def test_runbooks_show_the_estimate_next_to_the_rto(prod_outputs: dict[str, Any]) -> None:
    files = render(prod_outputs, "prod")
    overview = files[OVERVIEW]
    section = overview.split("## Restore time against the RTO\n", 1)[1].split("\n## ", 1)[0]
    # immich-photos: 900 GB from b2 at 100 Mbit/s is 20 h against Tier 1's 8 h after losing the site.
    row = next(line for line in section.splitlines() if line.startswith("| immich-photos | 1 | 900 GB |"))
    assert "after losing the site: 20.0 h from b2 (MISSES it)" in row
    assert "nearest: a NAS snapshot" in row
    vault = next(line for line in section.splitlines() if line.startswith("| vaultwarden | 1 |"))
    assert "nearest: 1 min from nas (within); after losing the site: 1 min from b2 (within)" in vault
    photos = files["immich-photos.md"]
    assert "| 20.0 h at 100 Mbit/s |" in photos
    assert "| RTO | 1 h from the nearest copy; 8 h after losing the site | estimated restore, " in photos
