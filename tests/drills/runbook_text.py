"""Reading a generated runbook the way a person does after losing the site: find the part for one copy, take its
shell blocks in order, and fill in only the placeholders the runbook's "Fill in" table lists.

The site-loss drill runs exactly what comes out of here, so a runbook that lacks a step, or uses a value it never
tells the reader where to find, fails the drill.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from runbook.render import PLACEHOLDER

OUTSIDE = "## Restore without the cluster or the NAS"


class RunbookGap(AssertionError):
    """The runbook does not give the reader what the restore needs."""


def section(markdown: str, heading: str) -> str:
    """The text under the `### ` heading that starts with `heading`, up to the next heading of level 2 or 3."""
    found = re.search(rf"^### {re.escape(heading)}.*?$(.*?)(?=^##+ |\Z)", markdown, re.M | re.S)
    if found is None:
        headings = re.findall(r"^###? .*$", markdown, re.M)
        raise RunbookGap(f"the runbook has no part `### {heading}`; it has {headings}")
    return found.group(1)


def shell_blocks(text: str) -> list[str]:
    """The fenced ```sh blocks of a part, in order."""
    return re.findall(r"^```sh\n(.*?)^```$", text, re.M | re.S)


def fill_in_table(markdown: str) -> dict[str, str]:
    """Placeholder -> where its value comes from, as the runbook's table lists them."""
    if OUTSIDE not in markdown:
        raise RunbookGap(f"the runbook has no `{OUTSIDE}` section")
    part = markdown.split(OUTSIDE, 1)[1].split("\n### ", 1)[0]
    return dict(re.findall(r"^\| `(<[^`]+>)` \| (.*) \|$", part, re.M))


def placeholders(script: str) -> set[str]:
    return {f"<{name}>" for name in re.findall(PLACEHOLDER, script)}


def fill(script: str, table: Mapping[str, str], values: Mapping[str, str]) -> str:
    """`script` with each listed placeholder replaced; refuses one the table does not list or that has no value.
    A quoted placeholder (`'<x>'`) becomes the value quoted for the shell, a bare one the value itself."""
    used = placeholders(script)
    unlisted = sorted(used - set(table))
    if unlisted:
        raise RunbookGap(f"the commands use {unlisted}, which the runbook's fill-in table does not explain")
    missing = sorted(used - set(values))
    if missing:
        raise RunbookGap(f"no value for {missing} (the table says: {[table[m] for m in missing]})")
    for name in sorted(used):
        script = script.replace(f"'{name}'", shlex.quote(values[name])).replace(name, values[name])
    return script


def commands(markdown: str, heading: str, values: Mapping[str, str]) -> str:
    """The part's shell blocks joined in order, placeholders filled: the script a reader would paste."""
    blocks = shell_blocks(section(markdown, heading))
    if not blocks:
        raise RunbookGap(f"`### {heading}` has no shell commands")
    return fill("\n".join(blocks), fill_in_table(markdown), values)
