"""providers/generated.py: the generated-secret provider's check and diff, on made-up and captured requests."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from providers.generated import GeneratedSecretProvider
from tests.providers import wire_forms

CAPTURED_CHECKS = wire_forms.of_type("secrets:GeneratedSecret", "Check")
CAPTURED_DIFFS = wire_forms.of_type("secrets:GeneratedSecret", "Diff")


@pytest.mark.parametrize(("length", "ok"), [(48.0, True), (48, True), (16, True), (15.0, False), (257, False),
                                            (48.5, False), ("48", False), (Unknown(), True)])
def test_check_reads_the_wire_double_and_skips_unknowns(length: Any, ok: bool) -> None:
    result = GeneratedSecretProvider().check({}, {"length": length})
    assert [f.property for f in result.failures] == ([] if ok else ["length"])


def test_diff_replaces_on_a_new_or_unknown_length_only() -> None:
    provider = GeneratedSecretProvider()
    assert provider.diff("x", {"length": 48.0}, {"length": 48}).changes is False
    for news in ({"length": 64.0}, {"length": Unknown()}):
        result = provider.diff("x", {"length": 48.0}, news)
        assert (result.changes, result.replaces) == (True, ["length"])


@pytest.mark.parametrize("record", CAPTURED_CHECKS, ids=wire_forms.record_id)
def test_check_accepts_what_a_real_preview_sends(record: dict[str, Any]) -> None:
    assert wire_forms.check(GeneratedSecretProvider(), record).failures == []


@pytest.mark.parametrize("record", CAPTURED_DIFFS, ids=wire_forms.record_id)
def test_diff_of_what_a_real_preview_sends(record: dict[str, Any]) -> None:
    result = wire_forms.diff(GeneratedSecretProvider(), record)
    assert (result.changes, result.replaces) == (False, [])
