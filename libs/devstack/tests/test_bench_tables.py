"""Tests of the benchmark's Markdown tables and the docs section rewrite."""

from __future__ import annotations

import math

import pytest

from assignment_engine.devstack.bench.tables import (
    BEGIN_MARKER,
    END_MARKER,
    fmt,
    markdown_table,
    replace_section,
)


def test_fmt_values() -> None:
    assert fmt(1234567) == "1,234,567"
    assert fmt(1234.5678) == "1,234.6"
    assert fmt(0.25) == "0.25"
    assert fmt(12.34) == "12.3"
    assert fmt(None) == "–"
    assert fmt(math.nan) == "–"
    assert fmt(True) == "met"
    assert fmt(False) == "not met"
    assert fmt("a|b") == "a\\|b"


def test_table_aligns_numbers_right() -> None:
    table = markdown_table(["name", "rate"], [["engine", 1200.0], ["reference", 300.5]])
    assert table.splitlines() == [
        "| name | rate |",
        "|---|---:|",
        "| engine | 1,200.0 |",
        "| reference | 300.5 |",
    ]


def test_table_numeric_column_with_missing_cell() -> None:
    table = markdown_table(["n"], [[None], [2]])
    assert table.splitlines()[1] == "|---:|"
    assert table.splitlines()[2] == "| – |"


def test_table_rejects_short_row() -> None:
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        markdown_table(["a", "b"], [[1]])


def test_section_replaced_between_markers() -> None:
    document = (
        f"# Benchmarks\n\nintro\n\n{BEGIN_MARKER}\n\nold\n\n{END_MARKER}\n\nfooter\n"
    )
    updated = replace_section(document, "new tables")
    assert "old" not in updated
    assert "new tables" in updated
    assert updated.startswith("# Benchmarks\n\nintro\n\n")
    assert updated.endswith(f"{END_MARKER}\n\nfooter\n")


def test_section_appended_without_markers() -> None:
    updated = replace_section("# Benchmarks\n\nintro\n", "tables")
    assert (
        updated
        == f"# Benchmarks\n\nintro\n\n{BEGIN_MARKER}\n\ntables\n\n{END_MARKER}\n"
    )


def test_section_rewrite_is_idempotent() -> None:
    once = replace_section("# B\n", "tables")
    assert replace_section(once, "tables") == once
