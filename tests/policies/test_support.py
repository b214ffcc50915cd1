"""The shared machinery: cron dialects reduced to gaps and slots, secret markers kept from the engine's envelopes,
unknowns made explicit, and a stack index that stays linear in the number of resources."""

from __future__ import annotations

import importlib
import pkgutil
import time

import pulumi_policy.policy as sdk
import pytest
from pulumi_policy import StackValidationPolicy

import policies.rules as rules_package
from policies.rules.support import props
from policies.rules.support.cron import CronError, parse_cron, parse_truenas
from tests.policies import fixtures as f


@pytest.mark.parametrize(("expr", "seconds", "hours"), [
    ("15 */6 * * *", False, 6), ("10 1,5 * * *", False, 20), ("0 3 * * 0", False, 168), ("@hourly", False, 1),
    ("50 4 12 * *", False, 31 * 24), ("0 0 29 2 *", False, (4 * 365 + 1) * 24), ("0 45 2,14 * * *", True, 12),
    ("@every 90m", True, 1.5), ("*/5 * * * 1-5", False, 48 + 5 / 60),
])
def test_longest_gap_of_cron_dialects(expr, seconds, hours):
    assert parse_cron(expr, seconds=seconds).max_gap_hours() == pytest.approx(hours)


def test_truenas_schedule_with_weekday_seven_and_window():
    weekly = parse_truenas({"minute": "0", "hour": "0", "dom": "*", "month": "*", "dow": "7"})
    assert weekly.max_gap_hours() == 168 and weekly.week_starts() == [0]
    window = parse_truenas({"minute": "0", "hour": "*", "begin": "08:00", "end": "18:00"})
    assert window.max_gap_hours() == 14


@pytest.mark.parametrize(("expr", "message"), [
    ("* * *", "'* * *' has 3 fields; this dialect needs 5"),
    ("61 * * * *", "minute field '61' is outside 0-59"),
    ("0 0 * * mon-fri/0", "day of week field has step '0'; use a positive number"),
])
def test_unreadable_cron_says_why(expr, message):
    with pytest.raises(CronError) as caught:
        parse_cron(expr)
    assert str(caught.value) == message


def test_engine_secret_envelopes_survive_the_sdk_deserialization():
    props.install_secret_marking()
    raw = {"stringData": {"A": {props._SECRET_SIG_KEY: props._SECRET_SIG, "value": "s"}, "B": "plain"},
           "auth": {props._SECRET_SIG_KEY: props._SECRET_SIG, "value": {"key": "k", "n": 1.0}}}
    result = props.plain(sdk.deserialize_properties(raw))
    assert result == {"stringData": {"A": "s", "B": "plain"}, "auth": {"key": "k", "n": 1.0}}
    assert props.is_secret(result["stringData"]["A"]) and not props.is_secret(result["stringData"]["B"])
    assert props.is_secret(result["auth"]["key"])
    assert props.secret_marking_installed()


def test_unknowns_become_explicit_and_remember_secrecy():
    value = props.plain({"a": f.UNKNOWN, "b": [props.SecretStr(f.UNKNOWN)]})
    assert props.is_unknown(value["a"]) and not props.is_secret(value["a"])
    assert props.is_unknown(value["b"][0]) and props.is_secret(value["b"][0])
    assert props.get(value, "a", "deeper") == props.UNKNOWN


def _big_estate(copies: int) -> list[f.Node]:
    nodes: list[f.Node] = []
    for index in range(copies):
        estate = f.Estate()
        for node in estate.nodes:
            node.name = f"{node.name}-{index}"
            if node.type == "homelab-backups:inventory:ProtectedDataset":
                node.props["dataset"] = node.name
        nodes += estate.nodes
    return nodes


def test_stack_rules_stay_linear():
    """Every stack rule over 60 estates (~2300 resources) within seconds, and growing ~linearly with size."""
    policies = [importlib.import_module(f"policies.rules.{m.name}").POLICY
                for m in pkgutil.iter_modules(rules_package.__path__) if not m.ispkg and m.name != "config"]
    stack = [p for p in policies if isinstance(p, StackValidationPolicy)]

    def timed(nodes: list[f.Node]) -> float:
        start = time.perf_counter()
        for policy in stack:
            f.run_stack(policy, nodes)
        return time.perf_counter() - start

    small, large = timed(_big_estate(10)), timed(_big_estate(60))
    assert large < 20, large
    assert large / small < 6 * 2.5, (small, large)
