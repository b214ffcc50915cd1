"""The estate diagram: Mermaid in the overview and a standalone SVG, for the prod stack (mocked deployment) and the
local stack; the SVG drawn by headless Chromium (Debian package, installed by scripts/services.sh) is not blank and
carries every label."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from runbook.diagram import mermaid, svg
from runbook.render import DIAGRAM, OVERVIEW, render
from tests.components.harness import run_estate

SVG_NS = "{http://www.w3.org/2000/svg}"


def _texts(document: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(document).iter(f"{SVG_NS}text")]


def _copies(runbook: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(n, c) for n, ds in runbook["datasets"].items() for c in ds["copies"]]


@pytest.fixture(scope="module")
def local_runbook() -> dict[str, Any]:
    _, exported = run_estate("local", env={"HLB_LOCAL_S3_ACCESS_KEY_ID": "k", "HLB_LOCAL_S3_SECRET_ACCESS_KEY": "s"})
    return exported["runbook"]


def test_overview_embeds_the_mermaid_diagram_and_links_the_svg(prod_outputs: dict[str, Any]) -> None:
    files = render(prod_outputs, "prod")
    overview = files[OVERVIEW]
    block = overview.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == mermaid(prod_outputs["runbook"])
    assert f"]({DIAGRAM})" in overview
    assert files[DIAGRAM].startswith("<svg ")


def test_mermaid_has_every_dataset_copy_and_destination(prod_runbook: dict[str, Any]) -> None:
    text = mermaid(prod_runbook)
    for name, ds in prod_runbook["datasets"].items():
        node = "ds_" + re.sub(r"\W", "_", name)
        assert re.search(rf'^    {node}\[".*Tier {ds["tier"]}.*"\]:::tier{ds["tier"]}$', text, re.M), name
    for _, c in _copies(prod_runbook):
        assert f"--> dst_{re.sub(r'[^A-Za-z0-9_]', '_', c['destination'])}" in text
    edges = [line for line in text.splitlines() if "--> cp_" in line]
    assert len(edges) == len(_copies(prod_runbook))
    offsite = [c for _, c in _copies(prod_runbook) if c["offsite"]]
    assert len(re.findall(r":::offsite\d$", text, re.M)) == len(offsite)
    locked = [c for c in offsite if c["lock_days"]]
    assert text.count("locked 14 d") == len(locked) > 0
    assert "class " not in text and "NOT MET" not in text, "prod meets 3-2-1 for every Tier 1 dataset"


def test_a_tier_1_dataset_short_of_3_2_1_is_marked_on_both(prod_runbook: dict[str, Any]) -> None:
    prod_runbook["datasets"]["nextcloud"]["offsite_copies"] = 0
    prod_runbook["datasets"]["grafana"]["offsite_copies"] = 0  # Tier 2: not held to 3-2-1
    text = mermaid(prod_runbook)
    assert "  class ds_nextcloud miss" in text.splitlines()
    assert "3-2-1 NOT MET (3 copies, 2 media, 0 offsite)" in text
    picture = svg(prod_runbook)
    assert "3-2-1 NOT MET (3 copies, 2 media, 0 offsite)" in _texts(picture)
    assert picture.count('stroke-dasharray="8 4"') == 1


def test_svg_labels_every_dataset_copy_and_destination(prod_runbook: dict[str, Any]) -> None:
    texts = _texts(svg(prod_runbook, "Backup estate (prod stack)"))
    assert "Backup estate (prod stack)" in texts
    for name in prod_runbook["datasets"]:
        assert name in texts
    for _, c in _copies(prod_runbook):
        assert c["destination"] in texts
        assert f"{c['tool']} to {c['destination']}" in texts
    assert "no copy (live data only)" in texts, "media (Tier 3) has no copy and is drawn as such"


def test_the_local_stack_gets_its_diagram(local_runbook: dict[str, Any]) -> None:
    files = render({"runbook": local_runbook, "secrets": {}, "cnpg_cluster_plugins": {}}, "local")
    assert "ds_vaultwarden" in files[OVERVIEW] and "dst_local_s3" in files[OVERVIEW]
    texts = _texts(files[DIAGRAM])
    assert {"vaultwarden", "grafana", "nas", "local-s3"} <= set(texts)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["prod", "local"])
def test_chromium_draws_the_svg(stack: str, prod_runbook: dict[str, Any], local_runbook: dict[str, Any],
                                tmp_path: Path) -> None:
    from PIL import Image

    browser = _chromium()
    if browser is None:
        pytest.fail("chromium is missing: run `bash scripts/services.sh install`")
    runbook = prod_runbook if stack == "prod" else local_runbook
    document = svg(runbook, f"Backup estate ({stack} stack)")
    width, height = (int(v) for v in re.search(r'width="(\d+)" height="(\d+)"', document).groups())
    source, shot = tmp_path / "estate.svg", tmp_path / "estate.png"
    source.write_text(document)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    f"--window-size={width},{height}", source.as_uri()],
                   capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("RGB")
    assert image.size == (width, height)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "anti-aliased text and tier colours, not a flat page"
    white = next((n for n, rgb in colours if rgb == (255, 255, 255)), 0)
    inked = width * height - white
    assert 0.05 < inked / (width * height) < 0.9, f"{inked} of {width * height} pixels drawn"
    # The tier 1 fill appears wherever there is a Tier 1 dataset box.
    tier1_fill = (0xFD, 0xEC, 0xEA)
    assert any(rgb == tier1_fill for _, rgb in colours)
