"""The shared machinery: cron dialects reduced to gaps and slots, secret markers kept from the engine's envelopes,
unknowns made explicit, each resource read once per request, and a pack that stays linear in the stack's size."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import sys
import time
from pathlib import Path

import pulumi_policy.policy as sdk
import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

import policies.rules as rules_package
from policies.rules.support import memo, props
from policies.rules.support.cron import CronError, parse_cron, parse_truenas
from policies.rules.support.interpreter import GC_THRESHOLDS
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


def _pack_policies() -> list:
    return [importlib.import_module(f"policies.rules.{m.name}").POLICY
            for m in pkgutil.iter_modules(rules_package.__path__) if not m.ispkg and m.name != "config"]


def test_stack_rules_stay_linear():
    """Every stack rule over 60 estates (~2300 resources) within seconds, and growing ~linearly with size. Each rule
    runs alone (outside a request, so each converts every resource itself) on the same SDK arguments, built once
    per size outside the clock: building them is the fixture's work, not the rules'."""
    stack = [p for p in _pack_policies() if isinstance(p, StackValidationPolicy)]

    def timed(nodes: list[f.Node]) -> float:
        args = f.stack_args(nodes)
        start = time.process_time()  # CPU time: six helpers share two cores, and wall time measures them too
        for policy in stack:
            f.run_stack_args(policy, args)
        return time.process_time() - start

    small, large = timed(_big_estate(10)), timed(_big_estate(60))
    assert large < 20, large
    assert large / small < 6 * 2.5, (small, large)


def _faulty_estate() -> f.Estate:
    """The compliant estate without a drill and an offsite copy, and a dataset whose tier its labels contradict."""
    estate = f.Estate()
    estate.remove(estate.vw_drill, estate.vw_r2)
    estate.grafana.props["tier"] = 1
    return estate


def _verdicts(response) -> tuple[list, list]:
    found = sorted((d.policyName, d.message, d.urn) for d in response.diagnostics)
    return found, sorted((n.policy_name, n.reason) for n in response.not_applicable)


def test_a_request_reads_each_resource_once_and_changes_no_verdict(monkeypatch):
    """The pack through the SDK's analyzer reads each resource once per request, and says exactly what each policy
    says when run alone outside any request (the path the rule tests take)."""
    memo.install_request_memo()
    assert memo.request_memo_installed() and props.secret_marking_installed()
    conversions = []
    real = memo._json_format.MessageToDict
    monkeypatch.setattr(memo._json_format, "MessageToDict",
                        lambda m, *a, **k: conversions.append(m) or real(m, *a, **k))
    policies = _pack_policies()
    estate = _faulty_estate()
    stack_response = f.analyzer(policies).AnalyzeStack(f.analyze_stack_request(estate.nodes), None)
    assert len(conversions) == len(estate.nodes)
    assert not memo.active()

    alone = []
    for policy in policies:
        if isinstance(policy, StackValidationPolicy):
            outcome = f.run_stack(policy, estate.nodes)
            alone += [(policy.name, f"{policy.description}\n{m}", u or "")
                      for m, u in zip(outcome.messages, outcome.urns, strict=True)]
    found, _ = _verdicts(stack_response)
    assert found == sorted(alone) and len(found) >= 3, found

    conversions.clear()
    faulty = estate.b2_bucket.props | {"bucket_type": "allPublic", "lock_days": 0}
    request = f.analyze_requests([f.Node(estate.b2_bucket.type, "hlb-b2-tier1-bucket", faulty)])[0]
    response = f.analyzer(policies).Analyze(request, None)
    assert len(conversions) == 1
    alone = [(p.name, f"{p.description}\n{m}") for p in policies if isinstance(p, ResourceValidationPolicy)
             for m in f.run_resource(p, estate.b2_bucket.type, faulty, name="hlb-b2-tier1-bucket").messages]
    assert sorted((d.policyName, d.message) for d in response.diagnostics) == sorted(alone) and alone


def test_memo_keeps_nothing_outside_a_request():
    computed = []
    for _ in range(2):
        memo.memoized("x", computed, lambda: computed.append(1))
    with memo.request_scope():
        for _ in range(2):
            memo.memoized("x", computed, lambda: computed.append(1))
        with memo.request_scope():
            memo.memoized("x", computed, lambda: computed.append(1))
    assert len(computed) == 3 and not memo.active()


_RULES_DIR = str(Path(rules_package.__file__).parent)


def _stack_work(copies: int, count_lines: bool = True, policies: list | None = None,
                code_dir: str = _RULES_DIR) -> tuple[int, float]:
    """Lines of the pack's own code run (traced; CPU time 0), or else CPU seconds (untraced; lines 0), for every
    stack policy through the SDK's analyzer (one `AnalyzeStack` request) on `copies` estates of six datasets, with
    the pack's interpreter settings.

    Lines are counted because the count does not depend on the load of the shared machine, and every loop
    iteration counts, however little it does; CPU time (measured in its own, untraced runs) backs them up for work
    inside builtins. Resource policies are left out: each sees one resource, so only the stack policies can grow
    faster than the stack.
    """
    request = f.analyze_stack_request(_big_estate(copies))
    service = f.analyzer(_pack_policies() if policies is None else policies)
    lines = 0

    def count(frame, event, arg):
        nonlocal lines
        lines += event == "line"
        return count

    def enter(frame, event, arg):
        return count if frame.f_code.co_filename.startswith(code_dir) else None

    saved = gc.get_threshold()
    gc.collect()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        if count_lines:
            sys.settrace(enter)
            service.AnalyzeStack(request, None)
            sys.settrace(None)
            return lines, 0.0
        started = time.process_time()
        service.AnalyzeStack(request, None)
        return lines, time.process_time() - started
    finally:
        sys.settrace(None)
        gc.set_threshold(*saved)


def _lines_per_dataset_growth(policies: list | None = None, code_dir: str = _RULES_DIR) -> float:
    """Lines run per dataset at 192 datasets over those at 48."""
    (small, _), (large, _) = (_stack_work(copies, policies=policies, code_dir=code_dir) for copies in (8, 32))
    assert small > 0, "no line of the measured code ran"
    return (large / 192) / (small / 48)


def test_pack_work_per_dataset_stays_linear():
    """Lines run per dataset at 192 datasets at most 1.1x those at 48 (quadratic work gives ~4x)."""
    growth = _lines_per_dataset_growth()
    assert growth <= 1.1, f"the pack's lines per dataset grow {growth:.2f}x from 48 to 192 datasets"


def _pairs_every_dataset(args, report_violation) -> None:
    """A stack rule that compares every dataset with every other: quadratic work, the kind the test must catch."""
    datasets = [r for r in args.resources if r.resource_type == "homelab-backups:inventory:ProtectedDataset"]
    for a in datasets:
        for b in datasets:
            if a is not b and a.name == b.name:
                report_violation(f"{a.name} twice")


def test_the_linearity_measure_catches_a_quadratic_stack_rule():
    quadratic = StackValidationPolicy(name="pairs-every-dataset", description="Quadratic on purpose.",
                                      validate=_pairs_every_dataset)
    growth = _lines_per_dataset_growth([quadratic], code_dir=__file__)
    assert growth > 2, f"a quadratic rule's lines per dataset grew only {growth:.2f}x: the measure cannot fail"


@pytest.mark.slow
def test_pack_time_per_dataset_stays_linear():
    """CPU time per dataset at 384 datasets at most 2x that at 96 (quadratic work gives ~4x); best of three, sizes
    interleaved, so a burst of load on the shared machine hits both (the small size is large enough not to be all
    start-up noise). 2x, not 1.5x: with three test workers and servers on two cores, the larger estate's bigger
    heap loses more to shared caches (a full run measured 1.76x for the same pack that passes 1.5x alone); the line
    count above is the exact measure, this one keeps it honest about time."""
    runs: dict[int, list[float]] = {16: [], 64: []}
    for _ in range(3):
        for copies, seconds in runs.items():
            seconds.append(_stack_work(copies, count_lines=False)[1] / (6 * copies))
    small, large = min(runs[16]), min(runs[64])
    assert large / small <= 2.0, f"per dataset: {small * 1000:.2f} ms at 96, {large * 1000:.2f} ms at 384"
