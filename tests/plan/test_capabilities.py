"""plan/capabilities.py: the capability sets the README promises are exactly the ones the program grants (one list,
two readers): B2 key capabilities, R2 permission groups, and the S3 prefix policy limited as pgBackRest advises."""

from __future__ import annotations

from pathlib import Path

from components.buckets import R2_PERMISSION_GROUPS
from plan.capabilities import S3_REFUSED_ACTIONS, s3_prefix_policy
from providers.b2 import MANAGEMENT_CAPABILITIES, READER_CAPABILITIES, WRITER_CAPABILITIES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _ticked(items) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _actions(write: bool) -> list[str]:
    return sorted({a for st in s3_prefix_policy("bucket", "prefix", write=write)["Statement"] for a in st["Action"]})


def test_b2_rows_match_the_granted_capabilities():
    assert f"| B2 | the program (application keys restricted to bucket and name prefix) | " \
           f"{_ticked(WRITER_CAPABILITIES)} | {_ticked(READER_CAPABILITIES)} |" in README
    assert f"Never granted (B2 key check refuses them by name): {_ticked(sorted(MANAGEMENT_CAPABILITIES))}." in README


def test_r2_row_matches_the_token_permission_groups():
    writer, reader = (", ".join(R2_PERMISSION_GROUPS[role]) for role in ("writer", "reader"))
    assert f"| {writer} | {reader} |" in README


def test_s3_rows_match_the_prefix_policy():
    assert f"| {_ticked(_actions(True))} | {_ticked(_actions(False))} |" in README
    assert f"Never in an S3 policy: {_ticked(S3_REFUSED_ACTIONS)}." in README
    assert not set(_actions(True)) & set(S3_REFUSED_ACTIONS)


def test_the_listing_is_limited_to_the_prefix_as_pgbackrests_sample_policy_does():
    lists = [st for st in s3_prefix_policy("b", "pg/db", write=True)["Statement"] if st["Action"] == ["s3:ListBucket"]]
    assert [st["Condition"] for st in lists] == [
        {"StringEquals": {"s3:prefix": ["", "pg/db"], "s3:delimiter": ["/"]}},
        {"StringLike": {"s3:prefix": ["pg/db/*"]}}]
