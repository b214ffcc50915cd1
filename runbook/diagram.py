"""The estate as a picture: datasets -> copies -> destinations, coloured by tier.

Two renderings of the same graph, both pure and deterministic:
- Mermaid for the overview Markdown (the forges people keep these repositories on draw it);
- a standalone SVG (`estate.svg`) laid out here in three columns, for anyone reading the runbooks offline.

Marked on both: the tier of each dataset (colour), offsite copies (thick outline), locked copies (the lock length)
and every Tier 1 dataset that misses 3-2-1 (red dashed outline and "3-2-1 NOT MET").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

TIER_COLOURS = {1: ("#fdecea", "#c0392b"), 2: ("#fef5e7", "#b9770e"), 3: ("#eef2f5", "#5d6d7e")}
"""tier -> (fill, outline)."""
MISS_COLOUR = "#e00000"
DESTINATION_COLOURS = ("#eaf2f8", "#2e86c1")
FONT = "DejaVu Sans, Verdana, sans-serif"
CHAR_W, LINE_H, PAD, ROW_GAP, COL_GAP, MARGIN = 7.2, 16, 8, 10, 70, 20


def three_two_one(ds: Mapping[str, Any]) -> tuple[bool, str]:
    """Tier 1's rule: at least 3 copies (primary included) on 2 kinds of media, 1 of them offsite."""
    copies, media, offsite = ds["copies_total"], len(ds["media"]), ds["offsite_copies"]
    return copies >= 3 and media >= 2 and offsite >= 1, f"{copies} copies, {media} media, {offsite} offsite"


def _misses(ds: Mapping[str, Any]) -> bool:
    return ds["tier"] == 1 and not three_two_one(ds)[0]


def _size(gb: float) -> str:
    return f"{gb / 1000:g} TB" if gb >= 1000 else f"{gb:g} GB"


def _order(runbook: Mapping[str, Any]) -> list[str]:
    datasets = runbook["datasets"]
    return sorted(datasets, key=lambda n: (datasets[n]["tier"], n))


def _destinations(runbook: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """destination -> {kind, offsite}, nearest (not offsite) first."""
    found: dict[str, dict[str, Any]] = {}
    for ds in runbook["datasets"].values():
        for c in ds["copies"]:
            entry = found.setdefault(c["destination"], {"kind": c["kind"], "offsite": False})
            entry["offsite"] = entry["offsite"] or c["offsite"]
    return dict(sorted(found.items(), key=lambda kv: (kv[1]["offsite"], kv[0])))


def _dataset_lines(name: str, ds: Mapping[str, Any]) -> list[str]:
    lines = [name, f"Tier {ds['tier']} · {_size(ds['size_gb'])}"]
    if _misses(ds):
        lines.append(f"3-2-1 NOT MET ({three_two_one(ds)[1]})")
    return lines


def _copy_lines(c: Mapping[str, Any]) -> list[str]:
    marks = ["offsite" if c["offsite"] else "on site"]
    if c["lock_days"]:
        marks.append(f"locked {c['lock_days']} d")
    return [f"{c['tool']} to {c['destination']}", " · ".join(marks)]


def _destination_lines(name: str, info: Mapping[str, Any]) -> list[str]:
    return [name, f"{info['kind']}" + (" · offsite" if info["offsite"] else " · on site")]


# --- Mermaid -----------------------------------------------------------------------------------------------------

def _id(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _label(lines: list[str]) -> str:
    return "<br/>".join(line.replace('"', "#quot;") for line in lines)


def mermaid(runbook: Mapping[str, Any]) -> str:
    """A Mermaid flowchart of the estate (without the ``` fence)."""
    datasets = runbook["datasets"]
    out = ["flowchart LR"]
    for tier, (fill, stroke) in TIER_COLOURS.items():
        out.append(f"  classDef tier{tier} fill:{fill},stroke:{stroke},color:#000")
        out.append(f"  classDef copy{tier} fill:#ffffff,stroke:{stroke},color:#000")
        out.append(f"  classDef offsite{tier} fill:#ffffff,stroke:{stroke},stroke-width:4px,color:#000")
    out.append(f"  classDef miss stroke:{MISS_COLOUR},stroke-width:4px,stroke-dasharray:6 3")
    out.append(f"  classDef destination fill:{DESTINATION_COLOURS[0]},stroke:{DESTINATION_COLOURS[1]},color:#000")
    destinations = _destinations(runbook)
    out.append('  subgraph datasets["Datasets"]')
    for name in _order(runbook):
        ds = datasets[name]
        out.append(f'    {_id("ds_", name)}["{_label(_dataset_lines(name, ds))}"]:::tier{ds["tier"]}')
    out.append("  end")
    out.append('  subgraph destinations["Destinations"]')
    for name, info in destinations.items():
        out.append(f'    {_id("dst_", name)}[("{_label(_destination_lines(name, info))}")]:::destination')
    out.append("  end")
    for name in _order(runbook):
        ds = datasets[name]
        for n, c in enumerate(ds["copies"], start=2):
            copy_id = _id("cp_", f"{name}_{n}")
            style = f"offsite{ds['tier']}" if c["offsite"] else f"copy{ds['tier']}"
            out.append(f'  {copy_id}(["{_label(_copy_lines(c))}"]):::{style}')
            out.append(f"  {_id('ds_', name)} --> {copy_id} --> {_id('dst_', c['destination'])}")
        if not ds["copies"]:
            out.append(f'  {_id("nc_", name)}["no copy (live data only)"]:::copy{ds["tier"]}')
            out.append(f"  {_id('ds_', name)} -.- {_id('nc_', name)}")
    missing = [_id("ds_", n) for n in _order(runbook) if _misses(datasets[n])]
    if missing:
        out.append(f"  class {','.join(missing)} miss")
    return "\n".join(out) + "\n"


# --- SVG -----------------------------------------------------------------------------------------------------------

@dataclass
class _Box:
    x: float
    y: float
    w: float
    lines: list[str]
    fill: str
    stroke: str
    width: float = 1.5
    dash: str = ""
    rounded: float = 4

    @property
    def h(self) -> float:
        return len(self.lines) * LINE_H + 2 * PAD

    def svg(self) -> list[str]:
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        out = [f'<rect x="{self.x:.1f}" y="{self.y:.1f}" width="{self.w:.1f}" height="{self.h:.1f}" '
               f'rx="{self.rounded}" fill="{self.fill}" stroke="{self.stroke}" stroke-width="{self.width}"{dash}/>']
        for i, line in enumerate(self.lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            colour = MISS_COLOUR if line.startswith("3-2-1 NOT MET") else "#111"
            out.append(f'<text x="{self.x + PAD:.1f}" y="{self.y + PAD + (i + 0.8) * LINE_H:.1f}"{weight} '
                       f'fill="{colour}">{escape(line)}</text>')
        return out


def _width(lines_list: list[list[str]]) -> float:
    longest = max((len(line) for lines in lines_list for line in lines), default=10)
    return longest * CHAR_W + 2 * PAD


def _edge(a: _Box, b: _Box, colour: str, width: float) -> str:
    x1, y1 = a.x + a.w, a.y + a.h / 2
    x2, y2 = b.x, b.y + b.h / 2
    mid = (x1 + x2) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}" stroke-opacity="0.7"/>')


def svg(runbook: Mapping[str, Any], title: str = "Backup estate") -> str:
    """A standalone SVG: datasets (left), their copies (middle), destinations (right)."""
    datasets = runbook["datasets"]
    order = _order(runbook)
    destinations = _destinations(runbook)
    ds_lines = {n: _dataset_lines(n, datasets[n]) for n in order}
    copy_rows = [(n, c) for n in order for c in datasets[n]["copies"]]
    ds_w = _width(list(ds_lines.values()))
    cp_w = _width([_copy_lines(c) for _, c in copy_rows] + [["no copy (live data only)"]])
    dst_lines = {d: _destination_lines(d, info) for d, info in destinations.items()}
    dst_w = _width(list(dst_lines.values()))
    x_ds, top = MARGIN, MARGIN + 40
    x_cp = x_ds + ds_w + COL_GAP
    x_dst = x_cp + cp_w + COL_GAP

    body: list[str] = []
    edges: list[str] = []
    y = top
    ds_boxes: dict[str, _Box] = {}
    copy_boxes: list[tuple[str, dict[str, Any], _Box]] = []
    for name in order:
        ds = datasets[name]
        fill, stroke = TIER_COLOURS[ds["tier"]]
        group_top = y
        copies = ds["copies"] or [None]
        boxes = []
        for c in copies:
            if c is None:
                box = _Box(x_cp, y, cp_w, ["no copy (live data only)"], "#ffffff", stroke, dash="4 3")
            else:
                box = _Box(x_cp, y, cp_w, _copy_lines(c), "#ffffff", stroke, width=4 if c["offsite"] else 1.5)
                copy_boxes.append((name, c, box))
            boxes.append(box)
            y += box.h + ROW_GAP / 2
        group_bottom = y - ROW_GAP / 2
        dbox = _Box(x_ds, 0, ds_w, ds_lines[name], fill, stroke, width=2)
        if _misses(ds):
            dbox.stroke, dbox.width, dbox.dash = MISS_COLOUR, 4, "8 4"
        dbox.y = (group_top + group_bottom) / 2 - dbox.h / 2
        dbox.y = max(dbox.y, group_top)
        ds_boxes[name] = dbox
        body += dbox.svg()
        for box in boxes:
            edges.append(_edge(dbox, box, stroke, 1.5))
            body += box.svg()
        y = max(y, dbox.y + dbox.h + ROW_GAP / 2) + ROW_GAP
    copies_bottom = y
    dst_boxes: dict[str, _Box] = {}
    total = sum(_Box(0, 0, 0, lines, "", "").h for lines in dst_lines.values())
    gap = max(ROW_GAP * 2, (copies_bottom - top - total) / max(len(dst_lines), 1))
    y = top + gap / 2
    for name, lines in dst_lines.items():
        box = _Box(x_dst, y, dst_w, lines, DESTINATION_COLOURS[0], DESTINATION_COLOURS[1], width=2, rounded=12)
        dst_boxes[name] = box
        body += box.svg()
        y += box.h + gap
    for name, c, box in copy_boxes:
        colour = TIER_COLOURS[datasets[name]["tier"]][1]
        edges.append(_edge(box, dst_boxes[c["destination"]], colour, 3 if c["offsite"] else 1.5))

    legend_y = max([copies_bottom] + [b.y + b.h + ROW_GAP for b in dst_boxes.values()]) + 10
    legend = _legend(MARGIN, legend_y)
    width = x_dst + dst_w + MARGIN
    height = legend_y + 70
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" font-size="12">',
            f"<title>{escape(title)}</title>",
            f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="18" font-weight="bold">{escape(title)}</text>',
            f'<text x="{x_ds}" y="{top - 8}" font-weight="bold">Datasets</text>',
            f'<text x="{x_cp}" y="{top - 8}" font-weight="bold">Copies</text>',
            f'<text x="{x_dst}" y="{top - 8}" font-weight="bold">Destinations</text>']
    return "\n".join(head + edges + body + legend + ["</svg>"]) + "\n"


def _legend(x: float, y: float) -> list[str]:
    out = []
    for tier, (fill, stroke) in TIER_COLOURS.items():
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" fill="{fill}" stroke="{stroke}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{x + 22:.1f}" y="{y + 11:.1f}">Tier {tier}</text>')
        x += 80
    out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" fill="#ffffff" stroke="#333" '
               'stroke-width="4"/>')
    out.append(f'<text x="{x + 22:.1f}" y="{y + 11:.1f}">offsite copy (thick)</text>')
    x += 150
    out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" fill="#ffffff" stroke="{MISS_COLOUR}" '
               'stroke-width="3" stroke-dasharray="4 2"/>')
    out.append(f'<text x="{x + 22:.1f}" y="{y + 11:.1f}">Tier 1 missing 3-2-1</text>')
    out.append(f'<text x="{MARGIN}" y="{y + 34:.1f}" fill="#444">"locked N d": object lock keeps each version '
               "N days; copy 1, the live data, is not drawn.</text>")
    return out
