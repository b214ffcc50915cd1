"""Run a rendered systemd service the way systemd runs it, for the host drills (tests/drills/test_host_drill.py and
the hosts engine scenario): `Environment=` and `EnvironmentFile=`, `%C`, `%%`, `${VAR}` and `$$` expanded, then
ExecStartPre and ExecStart in order until one fails, then every ExecStopPost with `SERVICE_RESULT`.

Only what the rendered units use is read; PrivateTmp is emulated by mapping /var/tmp/ to a folder of the test.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The PATH systemd gives services."""


@dataclass(frozen=True)
class Unit:
    """A parsed [Service] section: its environment and its command lines, as systemd would run them."""

    environment: dict[str, str]
    pre: list[list[str]]
    start: list[list[str]]
    stop_post: list[list[str]]


def _unquote_value(value: str) -> str:
    (word,) = shlex.split(value)
    return word


def _expand(word: str, env: Mapping[str, str], cache_root: str) -> str:
    """systemd's expansion of one argument: `%C` and `%%` specifiers, `${VAR}` from the environment, `$$` -> `$`."""
    word = word.replace("%C", cache_root).replace("%%", "%")
    word = word.replace("$$", "\0")
    word = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word)
    return word.replace("\0", "$")


def parse_unit(text: str, cache_root: str) -> Unit:
    env: dict[str, str] = {}
    lines: dict[str, list[str]] = {"ExecStartPre": [], "ExecStart": [], "ExecStopPost": []}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section != "[Service]":
            continue
        if key == "Environment":
            name, _, val = _unquote_value(value).partition("=")
            env[name] = _expand(val, {}, cache_root)
        elif key == "EnvironmentFile":
            for entry in Path(value).read_text().splitlines():
                if entry and not entry.startswith("#"):
                    name, _, val = entry.partition("=")
                    env[name] = val
        elif key in lines:
            lines[key].append(value)

    def commands(key: str) -> list[list[str]]:
        return [[_expand(w, env, cache_root) for w in shlex.split(v)] for v in lines[key]]

    return Unit(env, commands("ExecStartPre"), commands("ExecStart"), commands("ExecStopPost"))


@dataclass
class Run:
    result: str
    outputs: list[subprocess.CompletedProcess[str]]


def run_service(unit: Unit, home: Path, private_tmp: Path | None = None) -> Run:
    """Run a oneshot service's commands in systemd's order; ExecStopPost always runs, told the result."""
    env = {"PATH": SYSTEMD_PATH, "HOME": str(home), "LANG": "C.UTF-8", **unit.environment}

    def remap(args: list[str]) -> list[str]:
        if private_tmp is None:
            return args
        return [a.replace("/var/tmp/", f"{private_tmp}/") for a in args]

    outputs = []
    result = "success"
    for args in [*unit.pre, *unit.start]:
        done = subprocess.run(remap(args), env=env, capture_output=True, text=True, timeout=300, check=False)
        outputs.append(done)
        if done.returncode != 0:
            result = "exit-code"
            break
    for args in unit.stop_post:
        outputs.append(subprocess.run(remap(args), env={**env, "SERVICE_RESULT": result}, capture_output=True,
                                      text=True, timeout=120, check=False))
    return Run(result, outputs)


def describe(run: Run) -> str:
    return "\n".join(f"$ {shlex.join(o.args)} -> {o.returncode}\n{o.stderr[-2000:]}" for o in run.outputs)
