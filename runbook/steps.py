"""One step of a restore procedure, the shape every source's steps take in the runbook contract (`restore[]`):
a title, why it is done, and the command when there is one to copy. One home, so the Markdown renderer and the
contract schema meet a single shape whatever the source kind."""

from __future__ import annotations


def step(title: str, why: str, command: str | None = None) -> dict[str, str]:
    """A restore step; `command` is left out (not empty) for steps a human does by hand."""
    entry = {"title": title, "why": why}
    if command is not None:
        entry["command"] = command
    return entry
